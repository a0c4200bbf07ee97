using GpuCnn.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuCnn.Devices;

/// <summary>
/// Typed entry points for every kernel: each is compiled on first use, cached, and launched with
/// the thread counts of the device's <see cref="LaunchPlan"/>. Layers call these, never ILGPU.
/// </summary>
public sealed class KernelLauncher : IDisposable
{
    readonly Accelerator accelerator;
    readonly MemoryBuffer1D<float, Stride1D.Dense> noBias;

    public LaunchPlan Plan { get; }

    public KernelLauncher(Accelerator accelerator, LaunchPlan plan)
    {
        this.accelerator = accelerator;
        Plan = plan;
        noBias = accelerator.Allocate1D<float>(16);
    }

    public void Dispose() => noBias.Dispose();

    T Load<T>(ref T? cache, Func<T> load) where T : class => cache ??= load();

    // ---- GEMM -----------------------------------------------------------------------------

    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs, int>? gemmRegisterTiled;
    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs, WorkSplit>? gemmGeneric;
    Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs, int>? gemmSharedTiled;
    Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, WorkSplit>? transpose;
    Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, WorkSplit>? columnSum;

    /// <summary>c = epilogue(a·b) with the plan's GEMM variant, or the generic one for shapes it cannot tile.</summary>
    public void Gemm(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float>? bias, GemmArgs g) =>
        Gemm(Plan.Gemm, a, b, c, bias, g);

    public void Gemm(GemmVariant variant, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c,
        ArrayView<float>? bias, GemmArgs g)
    {
        var biasView = bias ?? noBias.View;
        if (variant == GemmVariant.RegisterTiled && g.FitsRegisterTiles)
        {
            int threads = Plan.RegisterTileThreads(g.RegisterTileCount);
            Load(ref gemmRegisterTiled, () => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>,
                ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs, int>(GemmKernels.GemmRegisterTiled))
                (threads, a, b, c, biasView, g, threads);
        }
        else if (variant == GemmVariant.SharedTiled && Plan.SharedTile > 0)
        {
            int tile = Plan.SharedTile;
            var config = new KernelConfig(
                new Index2D((g.N + tile - 1) / tile, (g.M + tile - 1) / tile),
                new Index2D(tile, tile),
                SharedMemoryConfig.RequestDynamic<float>(2 * tile * tile));
            Load(ref gemmSharedTiled, () => accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>,
                ArrayView<float>, ArrayView<float>, GemmArgs, int>(GemmKernels.GemmSharedTiled))
                (config, a, b, c, biasView, g, tile);
        }
        else
        {
            var split = Plan.Split(g.M * g.N);
            Load(ref gemmGeneric, () => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>,
                ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs, WorkSplit>(GemmKernels.GemmGeneric))
                (split.Threads, a, b, c, biasView, g, split);
        }
    }

    public void Transpose(ArrayView<float> source, ArrayView<float> destination, int rows, int cols)
    {
        var split = Plan.Split(rows);
        Load(ref transpose, () => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>,
            ArrayView<float>, int, int, WorkSplit>(GemmKernels.Transpose))(split.Threads, source, destination, rows, cols, split);
    }

    public void ColumnSum(ArrayView<float> matrix, ArrayView<float> sums, int rows, int cols)
    {
        var split = Plan.Split(cols % 8 == 0 ? cols / 8 : cols);
        Load(ref columnSum, () => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>,
            ArrayView<float>, int, int, WorkSplit>(GemmKernels.ColumnSum))(split.Threads, matrix, sums, rows, cols, split);
    }

    // ---- Convolution and pooling -----------------------------------------------------------

    Action<Index1D, ArrayView<float>, ArrayView<float>, ConvGeometry, WorkSplit>? im2col, col2im;
    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, PoolGeometry, WorkSplit>? maxPoolForward;
    Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, PoolGeometry, WorkSplit>? maxPoolBackward;
    Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, WorkSplit>? globalAvgPoolForward, globalAvgPoolBackward;

    public void Im2Col(ArrayView<float> input, ArrayView<float> columns, ConvGeometry g)
    {
        var split = Plan.Split(g.ColumnRows);
        Load(ref im2col, () => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>,
            ConvGeometry, WorkSplit>(Conv2dKernels.Conv2dIm2Col))(split.Threads, input, columns, g, split);
    }

    public void Col2Im(ArrayView<float> columnGrad, ArrayView<float> inputGrad, ConvGeometry g)
    {
        var split = Plan.Split(g.InputPixels);
        Load(ref col2im, () => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>,
            ConvGeometry, WorkSplit>(Conv2dKernels.Conv2dCol2Im))(split.Threads, columnGrad, inputGrad, g, split);
    }

    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvGeometry, GemmArgs, int>? convForwardDirect;
    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvGeometry, int, int>? convWeightGradDirect;

    /// <summary>Whether a convolution takes the direct kernels (no im2col): unpadded, Cin not a multiple of 8, filters of 16.</summary>
    public static bool UsesDirectConvolution(ConvGeometry g, int filters) =>
        g.Padding == 0 && g.InChannels % 8 != 0 && filters % GemmKernels.TileCols == 0;

    public void Conv2dForwardDirect(ArrayView<float> input, ArrayView<float> kernel, ArrayView<float> output,
        ArrayView<float>? bias, ConvGeometry g, GemmArgs epilogue)
    {
        // Threads own blocks of pixel tiles (each covering every filter).
        int threads = Plan.RegisterTileThreads((g.ColumnRows + GemmKernels.TileRows - 1) / GemmKernels.TileRows);
        Load(ref convForwardDirect, () => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ConvGeometry, GemmArgs, int>(Conv2dKernels.Conv2dForwardDirect))
            (threads, input, kernel, output, bias ?? noBias.View, g, epilogue, threads);
    }

    public void Conv2dWeightGradDirect(ArrayView<float> input, ArrayView<float> outputGrad, ArrayView<float> kernelGrad,
        ConvGeometry g, int filters)
    {
        int tiles = (g.ColumnWidth + GemmKernels.TileRows - 1) / GemmKernels.TileRows * (filters / GemmKernels.TileCols);
        int threads = Plan.RegisterTileThreads(tiles);
        Load(ref convWeightGradDirect, () => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ConvGeometry, int, int>(Conv2dKernels.Conv2dWeightGradDirect))
            (threads, input, outputGrad, kernelGrad, g, filters, threads);
    }

    public void MaxPoolForward(ArrayView<float> input, ArrayView<float> output, ArrayView<int> argmax, PoolGeometry g)
    {
        var split = Plan.Split(g.OutputPixels);
        Load(ref maxPoolForward, () => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>,
            ArrayView<float>, ArrayView<int>, PoolGeometry, WorkSplit>(PoolingKernels.MaxPool2dForward))
            (split.Threads, input, output, argmax, g, split);
    }

    public void MaxPoolBackward(ArrayView<float> outputGrad, ArrayView<int> argmax, ArrayView<float> inputGrad, PoolGeometry g)
    {
        var split = Plan.Split(g.InputPixels);
        Load(ref maxPoolBackward, () => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>,
            ArrayView<int>, ArrayView<float>, PoolGeometry, WorkSplit>(PoolingKernels.MaxPool2dBackward))
            (split.Threads, outputGrad, argmax, inputGrad, g, split);
    }

    public void GlobalAvgPoolForward(ArrayView<float> input, ArrayView<float> output, int batch, int pixels, int channels)
    {
        var split = Plan.Split(batch);
        Load(ref globalAvgPoolForward, () => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>,
            ArrayView<float>, int, int, WorkSplit>(PoolingKernels.GlobalAvgPoolForward))
            (split.Threads, input, output, pixels, channels, split);
    }

    public void GlobalAvgPoolBackward(ArrayView<float> outputGrad, ArrayView<float> inputGrad, int batch, int pixels, int channels)
    {
        var split = Plan.Split(batch);
        Load(ref globalAvgPoolBackward, () => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>,
            ArrayView<float>, int, int, WorkSplit>(PoolingKernels.GlobalAvgPoolBackward))
            (split.Threads, outputGrad, inputGrad, pixels, channels, split);
    }

    // ---- Element-wise ----------------------------------------------------------------------

    Action<Index1D, ArrayView<float>, ArrayView<float>, int, WorkSplit>? reluForward;
    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, WorkSplit>? reluBackward;
    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, WorkSplit>? add;
    Action<Index1D, ArrayView<float>, ArrayView<float>, float, uint, WorkSplit>? dropoutForward, dropoutBackward;

    public void ReluForward(ArrayView<float> input, ArrayView<float> output)
    {
        int length = (int)input.Length;
        bool vector = length % 8 == 0;
        var split = Plan.Split(vector ? length / 8 : length);
        Load(ref reluForward, () => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>,
            ArrayView<float>, int, WorkSplit>(ActivationKernels.ReluForward))(split.Threads, input, output, vector ? 1 : 0, split);
    }

    public void ReluBackward(ArrayView<float> output, ArrayView<float> outputGrad, ArrayView<float> inputGrad)
    {
        int length = (int)output.Length;
        bool vector = length % 8 == 0;
        var split = Plan.Split(vector ? length / 8 : length);
        Load(ref reluBackward, () => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, int, WorkSplit>(ActivationKernels.ReluBackward))
            (split.Threads, output, outputGrad, inputGrad, vector ? 1 : 0, split);
    }

    public void Add(ArrayView<float> a, ArrayView<float> b, ArrayView<float> sum)
    {
        var split = Plan.Split((int)a.Length);
        Load(ref add, () => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, WorkSplit>(ActivationKernels.Add))(split.Threads, a, b, sum, split);
    }

    public void DropoutForward(ArrayView<float> input, ArrayView<float> output, float rate, uint seed)
    {
        var split = Plan.Split((int)input.Length);
        Load(ref dropoutForward, () => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>,
            ArrayView<float>, float, uint, WorkSplit>(DropoutKernels.DropoutForward))
            (split.Threads, input, output, rate, seed, split);
    }

    public void DropoutBackward(ArrayView<float> outputGrad, ArrayView<float> inputGrad, float rate, uint seed)
    {
        var split = Plan.Split((int)outputGrad.Length);
        Load(ref dropoutBackward, () => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>,
            ArrayView<float>, float, uint, WorkSplit>(DropoutKernels.DropoutBackward))
            (split.Threads, outputGrad, inputGrad, rate, seed, split);
    }

    // ---- Loss, metrics, data ---------------------------------------------------------------

    Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, float, WorkSplit>? softmaxCrossEntropy;
    Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<int>, int, ArrayView<double>, ArrayView<int>, int>? accumulateMetrics;
    Action<Index1D, ArrayView<byte>, ArrayView<byte>, ArrayView<int>, ArrayView<float>, ArrayView<int>, GatherArgs, WorkSplit>? gatherBatch;

    public void SoftmaxCrossEntropy(ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> logitGrad,
        ArrayView<float> rowLoss, ArrayView<int> predictions, int rows, int classes, float gradScale)
    {
        var split = Plan.Split(rows);
        Load(ref softmaxCrossEntropy, () => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>,
            ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, float, WorkSplit>(
            LossKernels.SoftmaxCrossEntropy))(split.Threads, logits, labels, logitGrad, rowLoss, predictions, classes, gradScale, split);
    }

    public void AccumulateMetrics(ArrayView<float> rowLoss, ArrayView<int> predictions, ArrayView<int> labels, int rows,
        ArrayView<double> totals, ArrayView<int> predictionLog, int logOffset) =>
        Load(ref accumulateMetrics, () => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>,
            ArrayView<int>, ArrayView<int>, int, ArrayView<double>, ArrayView<int>, int>(LossKernels.AccumulateMetrics))
            (1, rowLoss, predictions, labels, rows, totals, predictionLog, logOffset);

    public void GatherBatch(ArrayView<byte> images, ArrayView<byte> labels, ArrayView<int> order,
        ArrayView<float> batch, ArrayView<int> batchLabels, int count, GatherArgs args)
    {
        var split = Plan.Split(count);
        Load(ref gatherBatch, () => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<byte>,
            ArrayView<byte>, ArrayView<int>, ArrayView<float>, ArrayView<int>, GatherArgs, WorkSplit>(DataKernels.GatherBatch))
            (split.Threads, images, labels, order, batch, batchLabels, args, split);
    }

    // ---- Batch normalization ---------------------------------------------------------------

    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormShape, WorkSplit>? batchNormStatistics;
    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormShape, WorkSplit>? batchNormRunningStatistics;
    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormShape, WorkSplit>? batchNormForward;
    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormShape, WorkSplit>? batchNormBackwardReduce;
    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormShape, WorkSplit>? batchNormBackward;

    public void BatchNormStatistics(ArrayView<float> input, ArrayView<float> statistics, ArrayView<float> runningMean,
        ArrayView<float> runningVariance, BatchNormShape shape)
    {
        var split = Plan.Split(shape.Groups);
        Load(ref batchNormStatistics, () => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, BatchNormShape, WorkSplit>(BatchNormKernels.BatchNormStatistics))
            (split.Threads, input, statistics, runningMean, runningVariance, shape, split);
    }

    public void BatchNormRunningStatistics(ArrayView<float> statistics, ArrayView<float> runningMean,
        ArrayView<float> runningVariance, BatchNormShape shape)
    {
        var split = Plan.Split(shape.Groups);
        Load(ref batchNormRunningStatistics, () => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, BatchNormShape, WorkSplit>(BatchNormKernels.BatchNormRunningStatistics))
            (split.Threads, statistics, runningMean, runningVariance, shape, split);
    }

    public void BatchNormForward(ArrayView<float> input, ArrayView<float> output, ArrayView<float> gamma, ArrayView<float> beta,
        ArrayView<float> statistics, BatchNormShape shape)
    {
        var split = Plan.Split(shape.Rows);
        Load(ref batchNormForward, () => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormShape, WorkSplit>(BatchNormKernels.BatchNormForward))
            (split.Threads, input, output, gamma, beta, statistics, shape, split);
    }

    public void BatchNormBackward(ArrayView<float> input, ArrayView<float> outputGrad, ArrayView<float> inputGrad,
        ArrayView<float> gamma, ArrayView<float> statistics, ArrayView<float> gammaGrad, ArrayView<float> betaGrad,
        BatchNormShape shape, bool needsInputGrad)
    {
        var groups = Plan.Split(shape.Groups);
        Load(ref batchNormBackwardReduce, () => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormShape, WorkSplit>(
            BatchNormKernels.BatchNormBackwardReduce))(groups.Threads, input, outputGrad, statistics, gammaGrad, betaGrad, shape, groups);
        if (!needsInputGrad) return;
        var rows = Plan.Split(shape.Rows);
        Load(ref batchNormBackward, () => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormShape, WorkSplit>(
            BatchNormKernels.BatchNormBackward))(rows.Threads, input, outputGrad, inputGrad, gamma, statistics, gammaGrad, betaGrad, shape, rows);
    }

    // ---- Optimizers ------------------------------------------------------------------------

    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, float, float, WorkSplit>? adamUpdate;
    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, WorkSplit>? sgdMomentumUpdate;

    public void AdamUpdate(ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> firstMoment,
        ArrayView<float> secondMoment, float stepSize, float beta1, float beta2, float epsilon)
    {
        var split = Plan.Split((int)parameters.Length);
        Load(ref adamUpdate, () => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, float, float, float, float, WorkSplit>(OptimizerKernels.AdamUpdate))
            (split.Threads, parameters, gradients, firstMoment, secondMoment, stepSize, beta1, beta2, epsilon, split);
    }

    public void SgdMomentumUpdate(ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> velocity,
        float learningRate, float momentum)
    {
        var split = Plan.Split((int)parameters.Length);
        Load(ref sgdMomentumUpdate, () => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, float, float, WorkSplit>(OptimizerKernels.SgdMomentumUpdate))
            (split.Threads, parameters, gradients, velocity, learningRate, momentum, split);
    }
}
