using GpuCnn.Kernels;
using ILGPU;

namespace GpuCnn.Devices;

/// <summary>Launchers of PoolingKernels: max pooling and global average pooling.</summary>
public sealed partial class KernelLauncher
{
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, ArrayView<int>, PoolGeometry> maxPool2DForward = new(PoolingKernels.MaxPool2DForward, streams: true);
    readonly SplitKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, PoolGeometry> maxPool2DBackward =
        new(PoolingKernels.MaxPool2DBackward, streams: true);
    readonly SplitKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, PoolGeometry, int> maxPool2DBackwardColumnSum =
        new(PoolingKernels.MaxPool2DBackwardColumnSum);
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

    /// <summary>
    /// sums = ColumnSum(MaxPool2DBackward(outputGrad, argmax, output)) over the N·H·W input pixels,
    /// in ColumnSum's chunks and order, without the backward pass's dX: the bias gradient of the
    /// convolution under a 2×2 pooling (Conv2dWeightGradMaxPool). Channels in multiples of 16.
    /// </summary>
    public void MaxPool2DBackwardColumnSum(ArrayView<float> outputGrad, ArrayView<int> argmax, ArrayView<float> output, ArrayView<float> sums,
        PoolGeometry g)
    {
        const string name = nameof(MaxPool2DBackwardColumnSum);
        if (g.Size != 2 || g.Channels % 16 != 0)
            throw new ArgumentException($"{name}: needs a 2x2 pooling and channels in multiples of 16, got {g.Size}x{g.Size} and {g.Channels}.", nameof(g));
        Require(name, "outputGrad", outputGrad, g.Batch, g.OutHeight, g.OutWidth, g.Channels);
        Require(name, "argmax", argmax, g.Batch, g.OutHeight, g.OutWidth, g.Channels);
        Require(name, "output", output, g.Batch, g.OutHeight, g.OutWidth, g.Channels);
        Require(name, "sums", sums, g.Channels);
        int rows = g.InputPixels, chunks = Plan.Chunks(rows), rowChunk = Plan.ChunkLength(rows);
        var target = chunks == 1 ? sums : Workspace((long)chunks * g.Channels);
        // An item: a chunk's rows for four groups of eight channels, or two (the kernel's span).
        int span = g.ChannelGroups % 4 == 0 ? 4 : 2;
        maxPool2DBackwardColumnSum.LaunchSplit(this, chunks * (g.ChannelGroups / span), (long)rowChunk * span, outputGrad, argmax, output, target, g, rowChunk);
        if (chunks > 1) ColumnSumChunks(target, sums, chunks, g.Channels, chunks);
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
