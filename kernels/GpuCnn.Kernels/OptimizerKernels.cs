using ILGPU;
using ILGPU.Algorithms;

namespace GpuCnn.Kernels;

/// <summary>
/// Parameter updates over the model's one flat parameter buffer, so a step is one launch.
/// Both follow Keras's formulas exactly.
/// </summary>
public static class OptimizerKernels
{
    /// <summary>
    /// Adam: m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²; p -= stepSize·m / (√v + ε), where the
    /// host folds the bias corrections into stepSize = lr·√(1-β2ᵗ)/(1-β1ᵗ) (Keras's form).
    /// </summary>
    public static void AdamUpdate(Index1D thread, ArrayView<float> parameters, ArrayView<float> gradients,
        ArrayView<float> firstMoment, ArrayView<float> secondMoment, float stepSize, float beta1, float beta2,
        float epsilon, WorkSplit split)
    {
        int end = split.End(thread);
        for (int i = split.Start(thread); i < end; i++)
        {
            float g = gradients[i];
            float m = beta1 * firstMoment[i] + (1f - beta1) * g;
            float v = beta2 * secondMoment[i] + (1f - beta2) * g * g;
            firstMoment[i] = m;
            secondMoment[i] = v;
            parameters[i] -= stepSize * m / (XMath.Sqrt(v) + epsilon);
        }
    }

    /// <summary>SGD with momentum (Keras): velocity = momentum·velocity - lr·g; p += velocity.</summary>
    public static void SgdMomentumUpdate(Index1D thread, ArrayView<float> parameters, ArrayView<float> gradients,
        ArrayView<float> velocity, float learningRate, float momentum, WorkSplit split)
    {
        int end = split.End(thread);
        for (int i = split.Start(thread); i < end; i++)
        {
            float v = momentum * velocity[i] - learningRate * gradients[i];
            velocity[i] = v;
            parameters[i] += v;
        }
    }
}
