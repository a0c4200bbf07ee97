using ILGPU;
using ILGPU.Algorithms;

namespace GpuCnn.Kernels;

/// <summary>
/// Parameter updates over the model's one flat parameter buffer, so a step is one launch.
/// Both follow Keras's formulas exactly.
/// </summary>
public static class OptimizerKernels
{
    /// <summary>One AdamW step's constants: the bias-corrected step size, the decoupled decay lr·λ, and Adam's β1, β2, ε.</summary>
    public struct AdamStep
    {
        public float StepSize, Decay, Beta1, Beta2, Epsilon;
    }

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

    /// <summary>
    /// AdamW (Loshchilov and Hutter): the decoupled decay p -= decay·mask·p (decay = lr·λ, from
    /// the host), then Adam's step as <see cref="AdamUpdate"/>. mask is 1 for decayed weights, 0 for
    /// biases and batch-norm parameters.
    /// </summary>
    public static void AdamWUpdate(Index1D thread, ArrayView<float> parameters, ArrayView<float> gradients,
        ArrayView<float> firstMoment, ArrayView<float> secondMoment, ArrayView<float> mask, AdamStep step, WorkSplit split)
    {
        int end = split.End(thread);
        for (int i = split.Start(thread); i < end; i++)
        {
            float g = gradients[i];
            float m = step.Beta1 * firstMoment[i] + (1f - step.Beta1) * g;
            float v = step.Beta2 * secondMoment[i] + (1f - step.Beta2) * g * g;
            firstMoment[i] = m;
            secondMoment[i] = v;
            float p = parameters[i] - step.Decay * mask[i] * parameters[i];
            parameters[i] = p - step.StepSize * m / (XMath.Sqrt(v) + step.Epsilon);
        }
    }

    /// <summary>
    /// SGD with Nesterov momentum and L2 weight decay, as PyTorch's SGD(nesterov=True):
    /// g' = g + λ·mask·p; velocity = μ·velocity + g'; p -= lr·(g' + μ·velocity).
    /// </summary>
    public static void SgdNesterovUpdate(Index1D thread, ArrayView<float> parameters, ArrayView<float> gradients,
        ArrayView<float> velocity, ArrayView<float> mask, float learningRate, float momentum, float weightDecay, WorkSplit split)
    {
        int end = split.End(thread);
        for (int i = split.Start(thread); i < end; i++)
        {
            float g = gradients[i] + weightDecay * mask[i] * parameters[i];
            float v = momentum * velocity[i] + g;
            velocity[i] = v;
            parameters[i] -= learningRate * (g + momentum * v);
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
