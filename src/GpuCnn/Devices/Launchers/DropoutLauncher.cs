using GpuCnn.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuCnn.Devices;

/// <summary>Launchers of DropoutKernels.</summary>
public sealed partial class KernelLauncher
{
    Action<Index1D, ArrayView<float>, ArrayView<float>, float, uint, WorkSplit>? dropoutForward, dropoutBackward;
    Action<Index1D, ArrayView<float>, ArrayView<float>, float, uint>? dropoutMaskPerItem;

    public void DropoutForward(ArrayView<float> input, ArrayView<float> output, float rate, uint seed)
    {
        if (!Plan.IsCpu)
        {
            DropoutMaskPerItem(input, output, rate, seed);
            return;
        }
        var split = Plan.Split((int)input.Length);
        if (Launching(nameof(DropoutKernels.DropoutForward), split.Threads, split.Chunk))
            Load(ref dropoutForward, DropoutKernels.DropoutForward)(split.Threads, input, output, rate, seed, split);
    }

    public void DropoutBackward(ArrayView<float> outputGrad, ArrayView<float> inputGrad, float rate, uint seed)
    {
        if (!Plan.IsCpu)
        {
            DropoutMaskPerItem(outputGrad, inputGrad, rate, seed);
            return;
        }
        var split = Plan.Split((int)outputGrad.Length);
        if (Launching(nameof(DropoutKernels.DropoutBackward), split.Threads, split.Chunk))
            Load(ref dropoutBackward, DropoutKernels.DropoutBackward)(split.Threads, outputGrad, inputGrad, rate, seed, split);
    }

    /// <summary>GPU-shaped plans: one element per work-item, the same kernel for both passes.</summary>
    void DropoutMaskPerItem(ArrayView<float> source, ArrayView<float> target, float rate, uint seed)
    {
        if (Launching(nameof(DropoutKernels.DropoutMaskPerItem), source.Length, 1))
            Load(ref dropoutMaskPerItem, DropoutKernels.DropoutMaskPerItem)((int)source.Length, source, target, rate, seed);
    }
}
