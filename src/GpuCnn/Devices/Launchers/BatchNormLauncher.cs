using GpuCnn.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuCnn.Devices;

/// <summary>
/// Launchers of BatchNormKernels. The per-channel sums over N·H·W rows run in one pass on the
/// CPU plan, else in chunks of rows whose sums GemmKernels.ColumnSum adds in order.
/// </summary>
public sealed partial class KernelLauncher
{
    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormShape, int, int, WorkSplit>? batchNormPartialSums;
    Action<Index1D, ArrayView<float>, BatchNormShape, WorkSplit>? batchNormMean;
    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormShape, WorkSplit>? batchNormVariance, batchNormRunningStatistics;
    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormShape, WorkSplit>? batchNormForward;
    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormShape, int, WorkSplit>? batchNormBackwardReduce;
    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormShape, WorkSplit>? batchNormBackward;

    /// <summary>statistics = [μ | 1/√(σ²+ε)] of the batch; updates the running averages.</summary>
    public void BatchNormStatistics(ArrayView<float> input, ArrayView<float> statistics, ArrayView<float> runningMean,
        ArrayView<float> runningVariance, BatchNormShape shape)
    {
        var means = statistics.SubView(0, shape.Channels);
        var squares = statistics.SubView(shape.Channels, shape.Channels);
        BatchNormSums(input, statistics, means, shape, centered: 0);
        var groups = Plan.Split(shape.Groups);
        if (Launching(nameof(BatchNormKernels.BatchNormMean), groups.Threads, groups.Chunk))
            Load(ref batchNormMean, BatchNormKernels.BatchNormMean)(groups.Threads, statistics, shape, groups);
        BatchNormSums(input, statistics, squares, shape, centered: 1);
        if (Launching(nameof(BatchNormKernels.BatchNormVariance), groups.Threads, groups.Chunk))
            Load(ref batchNormVariance, BatchNormKernels.BatchNormVariance)(groups.Threads, statistics, runningMean, runningVariance, shape, groups);
    }

    /// <summary>Per-channel Σx or Σ(x-μ)² into target.</summary>
    void BatchNormSums(ArrayView<float> input, ArrayView<float> statistics, ArrayView<float> target, BatchNormShape shape, int centered)
    {
        int chunks = Plan.Chunks(shape.Rows), rowChunk = Plan.ChunkLength(shape.Rows);
        var sums = chunks == 1 ? target : Workspace((long)chunks * shape.Channels);
        var split = Plan.Split(chunks * shape.Groups);
        if (Launching(nameof(BatchNormKernels.BatchNormPartialSums), split.Threads, (long)split.Chunk * rowChunk))
            Load(ref batchNormPartialSums, BatchNormKernels.BatchNormPartialSums)(split.Threads, input, statistics, sums, shape, rowChunk, centered, split);
        if (chunks > 1) ColumnSumChunks(sums, target, chunks, shape.Channels, chunks);
    }

    /// <summary>Statistics from the running averages, for inference.</summary>
    public void BatchNormRunningStatistics(ArrayView<float> statistics, ArrayView<float> runningMean,
        ArrayView<float> runningVariance, BatchNormShape shape)
    {
        var split = Plan.Split(shape.Groups);
        if (Launching(nameof(BatchNormKernels.BatchNormRunningStatistics), split.Threads, split.Chunk))
            Load(ref batchNormRunningStatistics, BatchNormKernels.BatchNormRunningStatistics)
                (split.Threads, statistics, runningMean, runningVariance, shape, split);
    }

    public void BatchNormForward(ArrayView<float> input, ArrayView<float> output, ArrayView<float> gamma, ArrayView<float> beta,
        ArrayView<float> statistics, BatchNormShape shape)
    {
        var split = Plan.Split(shape.Rows);
        if (Launching(nameof(BatchNormKernels.BatchNormForward), split.Threads, (long)split.Chunk * shape.Groups))
            Load(ref batchNormForward, BatchNormKernels.BatchNormForward)(split.Threads, input, output, gamma, beta, statistics, shape, split);
    }

    /// <summary>dγ and dβ (the sums over rows), then dx when the layer needs it.</summary>
    public void BatchNormBackward(ArrayView<float> input, ArrayView<float> outputGrad, ArrayView<float> inputGrad,
        ArrayView<float> gamma, ArrayView<float> statistics, ArrayView<float> gammaGrad, ArrayView<float> betaGrad,
        BatchNormShape shape, bool needsInputGrad)
    {
        int chunks = Plan.Chunks(shape.Rows), rowChunk = Plan.ChunkLength(shape.Rows);
        long slab = (long)chunks * shape.Channels;
        var partials = chunks == 1 ? default : Workspace(2 * slab);
        var gammaSums = chunks == 1 ? gammaGrad : partials.SubView(0, slab);
        var betaSums = chunks == 1 ? betaGrad : partials.SubView(slab, slab);
        var groups = Plan.Split(chunks * shape.Groups);
        if (Launching(nameof(BatchNormKernels.BatchNormBackwardReduce), groups.Threads, (long)groups.Chunk * rowChunk))
            Load(ref batchNormBackwardReduce, BatchNormKernels.BatchNormBackwardReduce)
                (groups.Threads, input, outputGrad, statistics, gammaSums, betaSums, shape, rowChunk, groups);
        if (chunks > 1)
        {
            ColumnSumChunks(gammaSums, gammaGrad, chunks, shape.Channels, chunks);
            ColumnSumChunks(betaSums, betaGrad, chunks, shape.Channels, chunks);
        }
        if (!needsInputGrad) return;
        var rows = Plan.Split(shape.Rows);
        if (Launching(nameof(BatchNormKernels.BatchNormBackward), rows.Threads, (long)rows.Chunk * shape.Groups))
            Load(ref batchNormBackward, BatchNormKernels.BatchNormBackward)
                (rows.Threads, input, outputGrad, inputGrad, gamma, statistics, gammaGrad, betaGrad, shape, rows);
    }
}
