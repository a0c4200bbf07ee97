using GpuCnn.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuCnn.Devices;

/// <summary>Launchers of GemmKernels: register-tiled (a loop per thread, or a tile per work-item), register-blocked and shared-memory (groups with barriers) and generic GEMMs with split-K; transpose; column sums.</summary>
public sealed partial class KernelLauncher
{
    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs, int>? gemmRegisterTiled;
    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs>? gemmRegisterTilePerItem, gemmGenericPerItem;
    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs, WorkSplit>? gemmGeneric;
    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs, WorkSplit>? gemmSplitKReduce;
    Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs, int>? gemmSharedTiled, gemmRegisterBlocked;
    Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, WorkSplit>? transpose;
    Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, WorkSplit>? columnSum;

    /// <summary>c = epilogue(a·b) with the plan's GEMM variant, or the generic one for shapes it cannot tile.</summary>
    public void Gemm(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float>? bias, GemmArgs g) =>
        Gemm(Plan.Gemm, a, b, c, bias, g);

    /// <summary>
    /// c = epilogue(a·b). Where K is longer than the plan's reduction chunk (weight gradients:
    /// K = batch·pixels), the product is split along K into partial slabs in the workspace and
    /// GemmSplitKReduce adds them in order, so no work-item loops over all of K.
    /// </summary>
    public void Gemm(GemmVariant variant, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c,
        ArrayView<float>? bias, GemmArgs g)
    {
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
            var config = new KernelConfig(grid, new Index3D(t, t, 1),
                SharedMemoryConfig.RequestDynamic<float>(blocked ? GemmKernels.RegisterBlockedSharedFloats(t) : 2 * t * t));
            long serial = blocked ? kLength * GemmKernels.BlockPerThread * GemmKernels.BlockPerThread / t : kLength;
            if (!Launching(blocked ? nameof(GemmKernels.GemmRegisterBlocked) : nameof(GemmKernels.GemmSharedTiled), grid.Size * t * t, serial, t * t))
                return;
            if (blocked) LoadGrouped(ref gemmRegisterBlocked, GemmKernels.GemmRegisterBlocked)(config, a, b, c, bias, g, t);
            else LoadGrouped(ref gemmSharedTiled, GemmKernels.GemmSharedTiled)(config, a, b, c, bias, g, t);
            return;
        }
        // One launch per partial product, so every work-item of a launch loops over the same K range.
        for (int part = 0; part < g.Splits; part++)
        {
            var p = g with { Part = part };
            if (variant == GemmVariant.RegisterTiled && g.FitsRegisterTiles && Plan.IsCpu)
            {
                int tiles = g.RegisterTileCount, threads = Plan.RegisterTileThreads(tiles);
                if (Launching(nameof(GemmKernels.GemmRegisterTiled), threads, Ceiling(tiles, threads) * kLength))
                    Load(ref gemmRegisterTiled, GemmKernels.GemmRegisterTiled)(threads, a, b, c, bias, p, threads);
            }
            else if (variant == GemmVariant.RegisterTiled && g.FitsRegisterTiles)
            {
                if (Launching(nameof(GemmKernels.GemmRegisterTilePerItem), g.RegisterTileCount, kLength))
                    Load(ref gemmRegisterTilePerItem, GemmKernels.GemmRegisterTilePerItem)(g.RegisterTileCount, a, b, c, bias, p);
            }
            else if (Plan.IsCpu)
            {
                var split = Plan.Split(g.M * g.N);
                if (Launching(nameof(GemmKernels.GemmGeneric), split.Threads, split.Chunk * kLength))
                    Load(ref gemmGeneric, GemmKernels.GemmGeneric)(split.Threads, a, b, c, bias, p, split);
            }
            else if (Launching(nameof(GemmKernels.GemmGenericPerItem), g.M * g.N, kLength))
            {
                Load(ref gemmGenericPerItem, GemmKernels.GemmGenericPerItem)(g.M * g.N, a, b, c, bias, p);
            }
        }
    }

    void SplitKReduce(ArrayView<float> partials, ArrayView<float> c, ArrayView<float> bias, GemmArgs g)
    {
        var split = Plan.Split(g.M * g.N);
        if (Launching(nameof(GemmKernels.GemmSplitKReduce), split.Threads, (long)split.Chunk * g.Splits))
            Load(ref gemmSplitKReduce, GemmKernels.GemmSplitKReduce)(split.Threads, partials, c, bias, g, split);
    }

    public void Transpose(ArrayView<float> source, ArrayView<float> destination, int rows, int cols)
    {
        var split = Plan.Split(rows);
        if (Launching(nameof(GemmKernels.Transpose), split.Threads, (long)split.Chunk * cols))
            Load(ref transpose, GemmKernels.Transpose)(split.Threads, source, destination, rows, cols, split);
    }

    /// <summary>sums[j] = Σ_i matrix[i, j]: in one pass on the CPU plan, else in chunks of rows and a second, ordered pass.</summary>
    public void ColumnSum(ArrayView<float> matrix, ArrayView<float> sums, int rows, int cols)
    {
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
        var split = Plan.Split((rows + rowChunk - 1) / rowChunk * groups);
        if (Launching(nameof(GemmKernels.ColumnSum), split.Threads, (long)split.Chunk * rowChunk))
            Load(ref columnSum, GemmKernels.ColumnSum)(split.Threads, matrix, sums, rows, cols, rowChunk, split);
    }
}
