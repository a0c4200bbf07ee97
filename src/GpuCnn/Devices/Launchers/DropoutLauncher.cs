using GpuCnn.Kernels;
using ILGPU;

namespace GpuCnn.Devices;

/// <summary>Launchers of DropoutKernels.</summary>
public sealed partial class KernelLauncher
{
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, float, uint, int> dropoutForward = new(DropoutKernels.DropoutForward, streams: true),
        dropoutBackward = new(DropoutKernels.DropoutBackward, streams: true);
    readonly Kernel<ArrayView<float>, ArrayView<float>, float, uint, int> dropoutMaskPerItem = new(DropoutKernels.DropoutMaskPerItem);

    /// <param name="offset">Element number of input's first element in the whole mini-batch (data-parallel ranks; 0 otherwise).</param>
    public void DropoutForward(ArrayView<float> input, ArrayView<float> output, float rate, uint seed, int offset = 0)
    {
        Require(nameof(DropoutForward), "output", output, (int)input.Length);
        if (DropoutPerItem)
        {
            DropoutMaskPerItem(input, output, rate, seed, offset);
            return;
        }
        dropoutForward.LaunchSplit(this, (int)input.Length, 1, input, output, rate, seed, offset);
    }

    public void DropoutBackward(ArrayView<float> outputGrad, ArrayView<float> inputGrad, float rate, uint seed, int offset = 0)
    {
        Require(nameof(DropoutBackward), "inputGrad", inputGrad, (int)outputGrad.Length);
        if (DropoutPerItem)
        {
            DropoutMaskPerItem(outputGrad, inputGrad, rate, seed, offset);
            return;
        }
        dropoutBackward.LaunchSplit(this, (int)outputGrad.Length, 1, outputGrad, inputGrad, rate, seed, offset);
    }

    /// <summary>Whether dropout runs one element per work-item: on GPU-shaped plans, not on the CPU plan's blocks or PoCL's runs.</summary>
    bool DropoutPerItem => !Plan.ThreadsOwnBlocks && !Plan.Streams;

    /// <summary>
    /// GPU-shaped plans: one element per work-item, the same kernel for both passes. A plan with a
    /// stream chunk (PoCL's) takes runs of elements a work-item instead, as the CPU plan takes
    /// blocks: the seed's two dropout passes took 0.15-0.19 ms a step against 0.32.
    /// </summary>
    void DropoutMaskPerItem(ArrayView<float> source, ArrayView<float> target, float rate, uint seed, int offset) =>
        dropoutMaskPerItem.Launch(this, source.Length, 1, source, target, rate, seed, offset);
}
