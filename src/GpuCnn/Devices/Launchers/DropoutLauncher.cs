using GpuCnn.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuCnn.Devices;

/// <summary>Launchers of DropoutKernels.</summary>
public sealed partial class KernelLauncher
{
    Action<Index1D, ArrayView<float>, ArrayView<float>, float, uint, int, WorkSplit>? dropoutForward, dropoutBackward;
    Action<Index1D, ArrayView<float>, ArrayView<float>, float, uint, int>? dropoutMaskPerItem;

    /// <param name="offset">Element number of input's first element in the whole mini-batch (data-parallel ranks; 0 otherwise).</param>
    public void DropoutForward(ArrayView<float> input, ArrayView<float> output, float rate, uint seed, int offset = 0)
    {
        if (!Plan.IsCpu)
        {
            DropoutMaskPerItem(input, output, rate, seed, offset);
            return;
        }
        var split = Plan.Split((int)input.Length);
        if (Launching(nameof(DropoutKernels.DropoutForward), split.Threads, split.Chunk))
            Load(ref dropoutForward, DropoutKernels.DropoutForward)(split.Threads, input, output, rate, seed, offset, split);
    }

    public void DropoutBackward(ArrayView<float> outputGrad, ArrayView<float> inputGrad, float rate, uint seed, int offset = 0)
    {
        if (!Plan.IsCpu)
        {
            DropoutMaskPerItem(outputGrad, inputGrad, rate, seed, offset);
            return;
        }
        var split = Plan.Split((int)outputGrad.Length);
        if (Launching(nameof(DropoutKernels.DropoutBackward), split.Threads, split.Chunk))
            Load(ref dropoutBackward, DropoutKernels.DropoutBackward)(split.Threads, outputGrad, inputGrad, rate, seed, offset, split);
    }

    /// <summary>GPU-shaped plans: one element per work-item, the same kernel for both passes.</summary>
    void DropoutMaskPerItem(ArrayView<float> source, ArrayView<float> target, float rate, uint seed, int offset)
    {
        if (Launching(nameof(DropoutKernels.DropoutMaskPerItem), source.Length, 1))
            Load(ref dropoutMaskPerItem, DropoutKernels.DropoutMaskPerItem)((int)source.Length, source, target, rate, seed, offset);
    }
}
