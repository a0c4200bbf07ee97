using GpuCnn.Kernels;
using ILGPU;

namespace GpuCnn.Devices;

/// <summary>Launchers of PoolingKernels: max pooling and global average pooling.</summary>
public sealed partial class KernelLauncher
{
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, ArrayView<int>, PoolGeometry> maxPool2DForward = new(PoolingKernels.MaxPool2DForward, streams: true);
    readonly SplitKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, PoolGeometry> maxPool2DBackward =
        new(PoolingKernels.MaxPool2DBackward, streams: true);
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, int, int> globalAvgPoolForward = new(PoolingKernels.GlobalAvgPoolForward),
        globalAvgPoolBackward = new(PoolingKernels.GlobalAvgPoolBackward);

    public void MaxPool2DForward(ArrayView<float> input, ArrayView<float> output, ArrayView<int> argmax, PoolGeometry g)
    {
        RequirePool(nameof(MaxPool2DForward), input, output, argmax, g);
        maxPool2DForward.LaunchSplit(this, g.OutputPixels, (long)g.ChannelGroups * g.Size * g.Size, input, output, argmax, g);
    }

    /// <summary>output: the forward pass's, which g.ReluBefore masks by.</summary>
    public void MaxPool2DBackward(ArrayView<float> outputGrad, ArrayView<int> argmax, ArrayView<float> output, ArrayView<float> inputGrad,
        PoolGeometry g)
    {
        RequirePool(nameof(MaxPool2DBackward), inputGrad, outputGrad, argmax, g, "inputGrad", "outputGrad");
        Require(nameof(MaxPool2DBackward), "output", output, g.Batch, g.OutHeight, g.OutWidth, g.Channels);
        maxPool2DBackward.LaunchSplit(this, g.InputPixels, g.ChannelGroups, outputGrad, argmax, output, inputGrad, g);
    }

    /// <summary>The input side N×H×W×C; the output side and the argmax N×OH×OW×C.</summary>
    static void RequirePool(string kernel, ArrayView<float> input, ArrayView<float> output, ArrayView<int> argmax, PoolGeometry g,
        string inputName = "input", string outputName = "output")
    {
        Require(kernel, inputName, input, g.Batch, g.InHeight, g.InWidth, g.Channels);
        Require(kernel, outputName, output, g.Batch, g.OutHeight, g.OutWidth, g.Channels);
        Require(kernel, "argmax", argmax, g.Batch, g.OutHeight, g.OutWidth, g.Channels);
    }

    public void GlobalAvgPoolForward(ArrayView<float> input, ArrayView<float> output, int batch, int pixels, int channels)
    {
        Require(nameof(GlobalAvgPoolForward), "input", input, batch, pixels, channels);
        Require(nameof(GlobalAvgPoolForward), "output", output, batch, channels);
        globalAvgPoolForward.LaunchSplit(this, batch, (long)pixels * channels, input, output, pixels, channels);
    }

    public void GlobalAvgPoolBackward(ArrayView<float> outputGrad, ArrayView<float> inputGrad, int batch, int pixels, int channels)
    {
        Require(nameof(GlobalAvgPoolBackward), "outputGrad", outputGrad, batch, channels);
        Require(nameof(GlobalAvgPoolBackward), "inputGrad", inputGrad, batch, pixels, channels);
        globalAvgPoolBackward.LaunchSplit(this, batch, (long)pixels * channels, outputGrad, inputGrad, pixels, channels);
    }
}
