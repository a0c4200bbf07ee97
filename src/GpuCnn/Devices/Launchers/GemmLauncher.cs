using GpuCnn.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuCnn.Devices;

/// <summary>Launchers of GemmKernels: register-tiled (a loop per thread, or a tile per work-item), register-blocked and shared-memory (groups with barriers) and generic GEMMs with split-K; transpose; column sums.</summary>
public sealed partial class KernelLauncher
{
    readonly Kernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs, int> gemmRegisterTiled = new(GemmKernels.GemmRegisterTiled);
    readonly Kernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs> gemmRegisterTilePerItem = new(GemmKernels.GemmRegisterTilePerItem),
        gemmGenericPerItem = new(GemmKernels.GemmGenericPerItem);
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs> gemmGeneric = new(GemmKernels.GemmGeneric);
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs> gemmSplitKReduce = new(GemmKernels.GemmSplitKReduce, streams: true);
    readonly GroupedKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs, int> gemmSharedTiled = new(GemmKernels.GemmSharedTiled),
        gemmRegisterBlocked = new(GemmKernels.GemmRegisterBlocked);
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, int, int> transpose = new(GemmKernels.Transpose);
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, int, int, int> columnSum = new(GemmKernels.ColumnSum, streams: true) { RunsOf = ChunkQuad.Items };

    /// <summary>
    /// c = epilogue(a·b) with the plan's GEMM variant, or the generic one for shapes it cannot tile.
    /// On a plan that measures its register tiles (<see cref="LaunchPlan.Tile"/> 0) a product the
    /// implicit convolution takes (<see cref="RunsAsConvolution"/>) runs as a 1×1 convolution over
    /// M one-pixel images, in the tile measured for it.
    /// </summary>
    public void Gemm(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float>? bias, GemmArgs g)
    {
        if (Plan.Tile != 0 || !RunsAsConvolution(g))
        {
            Gemm(Plan.Gemm, a, b, c, bias, g);
            return;
        }
        // a·b: M pixels of K channels, b the K×N kernel; aᵀ·b: the weight gradient of K pixels of M channels.
        if (g.ARowStride == 1) Conv2dWeightGradImplicit(a, b, c, new ConvGeometry(g.K, 1, 1, g.M, 1, 1, 1, 0), g.N);
        else Conv2dForwardImplicit(a, b, c, bias, new ConvGeometry(g.M, 1, 1, g.K, 1, 1, 1, 0), g);
    }

    /// <summary>
    /// Whether a product is a 1×1 convolution's pass: a·b or aᵀ·b (no epilogue) with b and c
    /// row-major, c dense, N in multiples of 16 (the tiles' filters), not split along K by the caller.
    /// </summary>
    static bool RunsAsConvolution(GemmArgs g)
    {
        bool plain = g.ARowStride == g.K && g.AColStride == 1;
        bool transposed = g.ARowStride == 1 && g.AColStride == g.M && g.AddBias == 0 && g.Relu == 0;
        return (plain || transposed) && g.BRowStride == g.N && g.BColStride == 1 && g.CRowStride == g.N
            && g.N % GemmKernels.TileCols == 0 && g.Splits == 1 && g.M > 1 && g.K > 1;
    }

    /// <summary>
    /// c = epilogue(a·b). Where K is longer than the plan's reduction chunk (weight gradients:
    /// K = batch·pixels), the product is split along K into partial slabs in the workspace and
    /// GemmSplitKReduce adds them in order, so no work-item loops over all of K.
    /// </summary>
    public void Gemm(GemmVariant variant, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c,
        ArrayView<float>? bias, GemmArgs g)
    {
        RequireMatrix(nameof(Gemm), "a", a, "A", g.M, g.K, g.ARowStride, g.AColStride);
        RequireMatrix(nameof(Gemm), "b", b, "B", g.K, g.N, g.BRowStride, g.BColStride);
        RequireMatrix(nameof(Gemm), "c", c, "C", g.M, g.N, g.CRowStride);
        if (g.AddBias != 0) Require(nameof(Gemm), "bias", bias ?? default, g.N);
        var biasView = bias ?? noBias.View;
        int chunks = Plan.Chunks(g.K);
        if (chunks == 1)
        {
            GemmProduct(variant, a, b, c, biasView, g);
            return;
        }
        var split = g with { KChunk = Plan.ChunkLength(g.K), PartialStride = g.M * g.N };
        var partials = Workspace((long)chunks * g.M * g.N);
        GemmProduct(variant, a, b, partials, noBias.View, split with { CRowStride = g.N, AddBias = 0, Relu = 0 });
        SplitKReduce(partials, c, biasView, split);
    }

    void GemmProduct(GemmVariant variant, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c,
        ArrayView<float> bias, GemmArgs g)
    {
        long kLength = g.Splits == 1 ? g.K : g.KChunk;
        if (Plan.SharedTile > 0 && variant is GemmVariant.RegisterBlocked or GemmVariant.SharedTiled)
        {
            // Groups of T×T threads, all partial products in one launch, on grid Z. Register-blocked:
            // each thread a 4×4 block of outputs (4T×4T per group); shared-tiled: one output (T×T).
            int t = Plan.SharedTile;
            bool blocked = variant == GemmVariant.RegisterBlocked;
            int block = blocked ? GemmKernels.BlockPerThread * t : t;
            var grid = new Index3D((g.M + block - 1) / block, (g.N + block - 1) / block, g.Splits);
            var config = new KernelConfig(grid, new Index3D(t, t, 1));
            long serial = blocked ? kLength * GemmKernels.BlockPerThread * GemmKernels.BlockPerThread / t : kLength;
            (blocked ? gemmRegisterBlocked : gemmSharedTiled).Launch(this, config, serial, a, b, c, bias, g, t);
            return;
        }
        // One launch per partial product, so every work-item of a launch loops over the same K range.
        for (int part = 0; part < g.Splits; part++)
        {
            var p = g with { Part = part };
            if (variant == GemmVariant.RegisterTiled && g.FitsRegisterTiles && Plan.ThreadsOwnBlocks)
            {
                int tiles = g.RegisterTileCount, threads = Plan.RegisterTileThreads(tiles);
                gemmRegisterTiled.Launch(this, threads, Ceiling(tiles, threads) * kLength, a, b, c, bias, p, threads);
            }
            else if (variant == GemmVariant.RegisterTiled && g.FitsRegisterTiles)
                gemmRegisterTilePerItem.Launch(this, g.RegisterTileCount, kLength, a, b, c, bias, p);
            else if (Plan.ThreadsOwnBlocks)
                gemmGeneric.LaunchSplit(this, g.M * g.N, kLength, a, b, c, bias, p);
            else
                gemmGenericPerItem.Launch(this, g.M * g.N, kLength, a, b, c, bias, p);
        }
    }

    void SplitKReduce(ArrayView<float> partials, ArrayView<float> c, ArrayView<float> bias, GemmArgs g) =>
        gemmSplitKReduce.LaunchSplit(this, g.M * g.N, g.Splits, partials, c, bias, g);

    public void Transpose(ArrayView<float> source, ArrayView<float> destination, int rows, int cols)
    {
        Require(nameof(Transpose), "source", source, rows, cols);
        Require(nameof(Transpose), "destination", destination, cols, rows);
        transpose.LaunchSplit(this, rows, cols, source, destination, rows, cols);
    }

    /// <summary>sums[j] = Σ_i matrix[i, j]: in one pass on the CPU plan, else in chunks of rows and a second, ordered pass.</summary>
    public void ColumnSum(ArrayView<float> matrix, ArrayView<float> sums, int rows, int cols)
    {
        Require(nameof(ColumnSum), "matrix", matrix, rows, cols);
        Require(nameof(ColumnSum), "sums", sums, cols);
        int chunks = Plan.Chunks(rows);
        if (chunks == 1)
        {
            ColumnSumChunks(matrix, sums, rows, cols, rows);
            return;
        }
        var partials = Workspace((long)chunks * cols);
        ColumnSumChunks(matrix, partials, rows, cols, Plan.ChunkLength(rows));
        ColumnSumChunks(partials, sums, chunks, cols, chunks);
    }

    /// <summary>Column sums of each chunk of rowChunk rows, one result row per chunk.</summary>
    void ColumnSumChunks(ArrayView<float> matrix, ArrayView<float> sums, int rows, int cols, int rowChunk)
    {
        int groups = cols % 8 == 0 ? cols / 8 : cols;
        columnSum.LaunchSplit(this, (rows + rowChunk - 1) / rowChunk * groups, rowChunk, matrix, sums, rows, cols, rowChunk);
    }
}
