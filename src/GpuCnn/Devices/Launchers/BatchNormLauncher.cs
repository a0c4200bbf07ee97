using GpuCnn.Kernels;
using ILGPU;

namespace GpuCnn.Devices;

/// <summary>
/// Launchers of BatchNormKernels. The per-channel sums over N·H·W rows run in one pass on the
/// CPU plan, else in chunks of rows, whose sums a second launch adds in chunk order.
/// </summary>
public sealed partial class KernelLauncher
{
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormShape, int> batchNormChunkStatistics =
        new(BatchNormKernels.BatchNormChunkStatistics),
        batchNormChunkStatisticsQuads = new(BatchNormKernels.BatchNormChunkStatisticsQuads, streams: true) { RunsOf = ChunkQuad.Items };
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormShape, int>
        batchNormStatistics = new(BatchNormKernels.BatchNormStatistics);
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormShape> batchNormMovingStatistics =
        new(BatchNormKernels.BatchNormMovingStatistics);
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormShape, int> batchNormParameterGrads =
        new(BatchNormKernels.BatchNormParameterGrads);
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormShape> batchNormForward =
        new(BatchNormKernels.BatchNormForward, streams: true);
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        BatchNormShape, int> batchNormBackwardReduce = new(BatchNormKernels.BatchNormBackwardReduce),
        batchNormBackwardReduceQuads = new(BatchNormKernels.BatchNormBackwardReduceQuads, streams: true) { RunsOf = ChunkQuad.Items };
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        ArrayView<float>, BatchNormShape> batchNormBackward = new(BatchNormKernels.BatchNormBackward, streams: true);

    /// <summary>
    /// statistics = [μ | 1/√(σ²+ε)] of the batch; updates the moving averages. Two launches: the
    /// chunks' sums and squared deviations (into statistics itself when there is one chunk), then
    /// their combination.
    /// </summary>
    public void BatchNormStatistics(ArrayView<float> input, ArrayView<float> statistics, ArrayView<float> movingMean,
        ArrayView<float> movingVariance, BatchNormShape shape)
    {
        const string kernel = nameof(BatchNormStatistics);
        Require(kernel, "input", input, shape.Rows, shape.Channels);
        RequireStatistics(kernel, shape, statistics, movingMean, movingVariance);
        var (rowChunk, chunks, sums, squares) = ChunkSums(shape, statistics.SubView(0, shape.Channels), statistics.SubView(shape.Channels, shape.Channels));
        (Plan.Streams ? batchNormChunkStatisticsQuads : batchNormChunkStatistics).LaunchSplit(this, chunks * shape.Groups, rowChunk, input, sums, squares, shape, rowChunk);
        batchNormStatistics.LaunchSplit(this, shape.Groups, chunks, sums, squares, statistics, movingMean, movingVariance, shape, rowChunk);
    }

    /// <summary>
    /// The rows a work-item of a per-channel reduction sums, the chunks that makes, and where the
    /// reduction's two sums per chunk go: the final targets themselves with one chunk, else the
    /// two halves of a workspace of chunks × C floats each.
    /// </summary>
    (int RowChunk, int Chunks, ArrayView<float> First, ArrayView<float> Second) ChunkSums(BatchNormShape shape,
        ArrayView<float> first, ArrayView<float> second)
    {
        int rowChunk = Plan.ChunkLength(shape.Rows, shape.Groups), chunks = (shape.Rows + rowChunk - 1) / rowChunk;
        if (chunks == 1) return (rowChunk, chunks, first, second);
        long slab = (long)chunks * shape.Channels;
        var partials = Workspace(2 * slab);
        return (rowChunk, chunks, partials.SubView(0, slab), partials.SubView(slab, slab));
    }

    /// <summary>statistics: [μ | 1/√(σ²+ε)], 2×C floats; the moving averages: C floats each.</summary>
    static void RequireStatistics(string kernel, BatchNormShape shape, ArrayView<float> statistics, ArrayView<float> movingMean,
        ArrayView<float> movingVariance)
    {
        Require(kernel, "statistics", statistics, 2, shape.Channels);
        Require(kernel, "movingMean", movingMean, shape.Channels);
        Require(kernel, "movingVariance", movingVariance, shape.Channels);
    }

    /// <summary>Statistics from the moving averages, for inference.</summary>
    public void BatchNormMovingStatistics(ArrayView<float> statistics, ArrayView<float> movingMean,
        ArrayView<float> movingVariance, BatchNormShape shape)
    {
        RequireStatistics(nameof(BatchNormMovingStatistics), shape, statistics, movingMean, movingVariance);
        batchNormMovingStatistics.LaunchSplit(this, shape.Groups, 1, statistics, movingMean, movingVariance, shape);
    }

    /// <summary>output = BN(input), plus <paramref name="residual"/> where given (shape.Residual is set from it), then the ReLU with shape.Relu.</summary>
    public void BatchNormForward(ArrayView<float> input, ArrayView<float> output, ArrayView<float> gamma, ArrayView<float> beta,
        ArrayView<float> statistics, BatchNormShape shape, ArrayView<float>? residual = null)
    {
        const string kernel = nameof(BatchNormForward);
        Require(kernel, "input", input, shape.Rows, shape.Channels);
        if (residual is { } r) Require(kernel, "residual", r, shape.Rows, shape.Channels);
        shape.Residual = residual is null ? 0 : 1;
        Require(kernel, "output", output, shape.Rows, shape.Channels);
        Require(kernel, "gamma", gamma, shape.Channels);
        Require(kernel, "beta", beta, shape.Channels);
        Require(kernel, "statistics", statistics, 2, shape.Channels);
        batchNormForward.LaunchSplit(this, shape.Rows * shape.Groups, 1, input, residual ?? input, output, gamma, beta, statistics, shape);
    }

    /// <summary>dγ and dβ (the sums over rows), then dx when the layer needs it. With shape.Relu, the ReLU's mask comes from x, γ and β.</summary>
    public void BatchNormBackward(ArrayView<float> input, ArrayView<float> outputGrad, ArrayView<float> inputGrad,
        ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> statistics, ArrayView<float> gammaGrad, ArrayView<float> betaGrad,
        BatchNormShape shape, bool needsInputGrad)
    {
        const string kernel = nameof(BatchNormBackward);
        Require(kernel, "input", input, shape.Rows, shape.Channels);
        Require(kernel, "outputGrad", outputGrad, shape.Rows, shape.Channels);
        if (needsInputGrad) Require(kernel, "inputGrad", inputGrad, shape.Rows, shape.Channels);
        Require(kernel, "gamma", gamma, shape.Channels);
        Require(kernel, "beta", beta, shape.Channels);
        Require(kernel, "statistics", statistics, 2, shape.Channels);
        Require(kernel, "gammaGrad", gammaGrad, shape.Channels);
        Require(kernel, "betaGrad", betaGrad, shape.Channels);
        var (rowChunk, chunks, gammaSums, betaSums) = ChunkSums(shape, gammaGrad, betaGrad);
        (Plan.Streams ? batchNormBackwardReduceQuads : batchNormBackwardReduce).LaunchSplit(this, chunks * shape.Groups, rowChunk, input, outputGrad, gamma, beta, statistics, gammaSums, betaSums, shape, rowChunk);
        if (chunks > 1)
            batchNormParameterGrads.LaunchSplit(this, shape.Groups, chunks, gammaSums, betaSums, gammaGrad, betaGrad, shape, chunks);
        if (!needsInputGrad) return;
        batchNormBackward.LaunchSplit(this, shape.Rows * shape.Groups, 1, input, outputGrad, inputGrad, gamma, beta, statistics, gammaGrad, betaGrad, shape);
    }
}
