using GpuCnn.Kernels;
using ILGPU;

namespace GpuCnn.Devices;

/// <summary>Launchers of OptimizerKernels: one launch updates the whole flat parameter buffer.</summary>
public sealed partial class KernelLauncher
{
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, float, float> adamUpdate =
        new(OptimizerKernels.AdamUpdate, streams: true);
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float> sgdMomentumUpdate = new(OptimizerKernels.SgdMomentumUpdate, streams: true);
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, OptimizerKernels.AdamStep> adamWUpdate =
        new(OptimizerKernels.AdamWUpdate, streams: true);
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, float> sgdNesterovUpdate =
        new(OptimizerKernels.SgdNesterovUpdate, streams: true);

    public void AdamWUpdate(ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> firstMoment,
        ArrayView<float> secondMoment, ArrayView<float> mask, OptimizerKernels.AdamStep step)
    {
        int length = (int)parameters.Length;
        Require(nameof(AdamWUpdate), "gradients", gradients, length);
        Require(nameof(AdamWUpdate), "firstMoment", firstMoment, length);
        Require(nameof(AdamWUpdate), "secondMoment", secondMoment, length);
        Require(nameof(AdamWUpdate), "mask", mask, length);
        adamWUpdate.LaunchSplit(this, length, 1, parameters, gradients, firstMoment, secondMoment, mask, step);
    }

    public void SgdNesterovUpdate(ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> velocity,
        ArrayView<float> mask, float learningRate, float momentum, float weightDecay)
    {
        int length = (int)parameters.Length;
        Require(nameof(SgdNesterovUpdate), "gradients", gradients, length);
        Require(nameof(SgdNesterovUpdate), "velocity", velocity, length);
        Require(nameof(SgdNesterovUpdate), "mask", mask, length);
        sgdNesterovUpdate.LaunchSplit(this, length, 1, parameters, gradients, velocity, mask, learningRate, momentum, weightDecay);
    }

    public void AdamUpdate(ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> firstMoment,
        ArrayView<float> secondMoment, float stepSize, float beta1, float beta2, float epsilon)
    {
        int length = (int)parameters.Length;
        Require(nameof(AdamUpdate), "gradients", gradients, length);
        Require(nameof(AdamUpdate), "firstMoment", firstMoment, length);
        Require(nameof(AdamUpdate), "secondMoment", secondMoment, length);
        adamUpdate.LaunchSplit(this, (int)parameters.Length, 1, parameters, gradients, firstMoment, secondMoment, stepSize, beta1, beta2, epsilon);
    }

    public void SgdMomentumUpdate(ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> velocity,
        float learningRate, float momentum)
    {
        Require(nameof(SgdMomentumUpdate), "gradients", gradients, (int)parameters.Length);
        Require(nameof(SgdMomentumUpdate), "velocity", velocity, (int)parameters.Length);
        sgdMomentumUpdate.LaunchSplit(this, (int)parameters.Length, 1, parameters, gradients, velocity, learningRate, momentum);
    }
}
