using GpuCnn.Kernels;
using ILGPU;

namespace GpuCnn.Devices;

/// <summary>Launchers of PoolingKernels: max pooling and global average pooling.</summary>
public sealed partial class KernelLauncher
{
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, ArrayView<int>, PoolGeometry> maxPoolForward = new(PoolingKernels.MaxPool2dForward);
    readonly SplitKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, PoolGeometry> maxPoolBackward = new(PoolingKernels.MaxPool2dBackward);
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, int, int> globalAvgPoolForward = new(PoolingKernels.GlobalAvgPoolForward),
        globalAvgPoolBackward = new(PoolingKernels.GlobalAvgPoolBackward);

    public void MaxPoolForward(ArrayView<float> input, ArrayView<float> output, ArrayView<int> argmax, PoolGeometry g) =>
        maxPoolForward.LaunchSplit(this, g.OutputPixels, (long)g.ChannelGroups * g.Size * g.Size, input, output, argmax, g);

    public void MaxPoolBackward(ArrayView<float> outputGrad, ArrayView<int> argmax, ArrayView<float> inputGrad, PoolGeometry g) =>
        maxPoolBackward.LaunchSplit(this, g.InputPixels, g.ChannelGroups, outputGrad, argmax, inputGrad, g);

    public void GlobalAvgPoolForward(ArrayView<float> input, ArrayView<float> output, int batch, int pixels, int channels) =>
        globalAvgPoolForward.LaunchSplit(this, batch, (long)pixels * channels, input, output, pixels, channels);

    public void GlobalAvgPoolBackward(ArrayView<float> outputGrad, ArrayView<float> inputGrad, int batch, int pixels, int channels) =>
        globalAvgPoolBackward.LaunchSplit(this, batch, (long)pixels * channels, outputGrad, inputGrad, pixels, channels);
}
