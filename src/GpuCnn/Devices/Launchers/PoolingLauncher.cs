using GpuCnn.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuCnn.Devices;

/// <summary>Launchers of PoolingKernels: max pooling and global average pooling.</summary>
public sealed partial class KernelLauncher
{
    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, PoolGeometry, WorkSplit>? maxPoolForward;
    Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, PoolGeometry, WorkSplit>? maxPoolBackward;
    Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, WorkSplit>? globalAvgPoolForward, globalAvgPoolBackward;

    public void MaxPoolForward(ArrayView<float> input, ArrayView<float> output, ArrayView<int> argmax, PoolGeometry g)
    {
        var split = Plan.Split(g.OutputPixels);
        if (Launching(nameof(PoolingKernels.MaxPool2dForward), split.Threads, (long)split.Chunk * g.ChannelGroups * g.Size * g.Size))
            Load(ref maxPoolForward, PoolingKernels.MaxPool2dForward)(split.Threads, input, output, argmax, g, split);
    }

    public void MaxPoolBackward(ArrayView<float> outputGrad, ArrayView<int> argmax, ArrayView<float> inputGrad, PoolGeometry g)
    {
        var split = Plan.Split(g.InputPixels);
        if (Launching(nameof(PoolingKernels.MaxPool2dBackward), split.Threads, (long)split.Chunk * g.ChannelGroups))
            Load(ref maxPoolBackward, PoolingKernels.MaxPool2dBackward)(split.Threads, outputGrad, argmax, inputGrad, g, split);
    }

    public void GlobalAvgPoolForward(ArrayView<float> input, ArrayView<float> output, int batch, int pixels, int channels)
    {
        var split = Plan.Split(batch);
        if (Launching(nameof(PoolingKernels.GlobalAvgPoolForward), split.Threads, (long)split.Chunk * pixels * channels))
            Load(ref globalAvgPoolForward, PoolingKernels.GlobalAvgPoolForward)(split.Threads, input, output, pixels, channels, split);
    }

    public void GlobalAvgPoolBackward(ArrayView<float> outputGrad, ArrayView<float> inputGrad, int batch, int pixels, int channels)
    {
        var split = Plan.Split(batch);
        if (Launching(nameof(PoolingKernels.GlobalAvgPoolBackward), split.Threads, (long)split.Chunk * pixels * channels))
            Load(ref globalAvgPoolBackward, PoolingKernels.GlobalAvgPoolBackward)(split.Threads, outputGrad, inputGrad, pixels, channels, split);
    }
}
