using GpuCnn.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuCnn.Devices;

/// <summary>Launchers of OptimizerKernels: one launch updates the whole flat parameter buffer.</summary>
public sealed partial class KernelLauncher
{
    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, float, float, WorkSplit>? adamUpdate;
    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, WorkSplit>? sgdMomentumUpdate;

    public void AdamUpdate(ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> firstMoment,
        ArrayView<float> secondMoment, float stepSize, float beta1, float beta2, float epsilon)
    {
        var split = Plan.Split((int)parameters.Length);
        if (Launching(nameof(OptimizerKernels.AdamUpdate), split.Threads, split.Chunk))
            Load(ref adamUpdate, OptimizerKernels.AdamUpdate)
                (split.Threads, parameters, gradients, firstMoment, secondMoment, stepSize, beta1, beta2, epsilon, split);
    }

    public void SgdMomentumUpdate(ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> velocity,
        float learningRate, float momentum)
    {
        var split = Plan.Split((int)parameters.Length);
        if (Launching(nameof(OptimizerKernels.SgdMomentumUpdate), split.Threads, split.Chunk))
            Load(ref sgdMomentumUpdate, OptimizerKernels.SgdMomentumUpdate)
                (split.Threads, parameters, gradients, velocity, learningRate, momentum, split);
    }
}
