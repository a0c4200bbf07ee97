using GpuCnn.Kernels;

namespace GpuCnn.Devices;

/// <summary>How the GEMM behind dense and convolution layers runs.</summary>
public enum GemmVariant
{
    /// <summary>4×16 register tiles per work-item, no barriers: the CPU accelerator's and PoCL's plan.</summary>
    RegisterTiled,
    /// <summary>Shared-memory tiles of 4T×4T, each of T×T threads a 4×4 block of outputs: the GPU plan.</summary>
    RegisterBlocked,
    /// <summary>T×T shared-memory tiles, one thread per output: the textbook GPU GEMM, kept as the baseline.</summary>
    SharedTiled,
    /// <summary>One plain loop per output element: any shape, slowest.</summary>
    Generic,
}

/// <summary>
/// How a convolution layer runs. A variant that does not fit a layer falls back to im2col + GEMM
/// for that layer (<see cref="KernelLauncher.ConvVariantFor(LaunchPlan, GpuCnn.Kernels.ConvGeometry, int)"/>).
/// </summary>
public enum ConvVariant
{
    /// <summary>The plan's own choice per layer, measured by the bench (docs/performance.md).</summary>
    Auto,
    /// <summary>im2col, then the plan's GEMM; col2im for the input gradient. Fits every layer.</summary>
    Im2Col,
    /// <summary>
    /// An implicit GEMM that reads the image (or its zero-padded copy) in place of the column
    /// matrix: forward and weight gradient for filters in multiples of 16, and the input gradient
    /// of stride-1 layers (dZ with the flipped kernel) and of stride-2 ones with a 1×1 or 3×3
    /// kernel (by the input pixels' parity), with input channels in multiples of 16.
    /// </summary>
    Implicit,
    /// <summary>Winograd F(2×2, 3×3) for the forward and input-gradient passes: 3×3 stride-1 layers.</summary>
    Winograd,
}

/// <summary>
/// How kernels are launched on one kind of device, chosen when the device opens; tests and
/// benchmarks build other plans to run every variant.
/// - cpu (ILGPU's CPU accelerator): each logical thread costs microseconds to schedule, so work
///   goes to a few threads with large contiguous shares, and reductions run whole, in one pass.
/// - gpu (CUDA, OpenCL GPUs): one work-item per item, register-blocked GEMMs on 64×64 shared-memory tiles, and every
///   reduction split into chunks of <see cref="ReductionChunk"/> with a second, ordered pass.
/// - opencl-cpu (PoCL and other OpenCL CPU devices): as gpu, but barrier-free register-tiled
///   GEMMs, one work-item per tile; PoCL vectorises neighbouring work-items across SIMD lanes,
///   and barriers break that (docs/performance.md).
/// </summary>
public sealed record LaunchPlan(string Name, GemmVariant Gemm, int ParallelThreads, int ThreadsPerItem, int SharedTile,
    int ReductionChunk)
{
    /// <summary>How convolutions run; Auto: the plan's measured choice per layer.</summary>
    public ConvVariant Conv { get; init; }

    /// <summary>Work-items per group of the implicitly grouped kernels; 0 lets ILGPU choose.</summary>
    public int GroupSize { get; init; }

    /// <summary>Output pixels one work-item of the implicit weight gradient sums at most; 0: ReductionChunk's.</summary>
    public int WeightGradChunk { get; init; }

    /// <summary>
    /// The L2 cache of one core of the device (bytes), or 0: unknown. Where known, a weight
    /// gradient's chunk is halved (down to 256 pixels) until its input and output-gradient rows
    /// fill at most half of it, as the chunk's work-items each read all of them in turn.
    /// </summary>
    public long L2Bytes { get; init; }

    /// <summary>
    /// The implicit convolutions' register tile (KernelLauncher.Tiles: rows × 100 + filters,
    /// 416 for 4 rows of 16 filters), or 0: measured per kernel and layer shape on the device's
    /// first use of it and kept per device (KernelTuner). The tiles give the same results bit for bit.
    /// </summary>
    public int Tile { get; init; } = 416;

    /// <summary>
    /// Work-items a per-column reduction (batch norm's sums) is cut into at least, where its
    /// columns alone give too few to fill the device: 0, no minimum.
    /// </summary>
    public int MinReductionItems { get; init; }

    /// <summary>
    /// Pixels of an image row a work-item of Conv2dPad or Conv2dCol2Im writes: 1 on GPUs, where
    /// neighbouring work-items then write neighbouring memory; 0, a whole row, on the CPU plans
    /// (on PoCL the pad passes of a resnet20 step took 8.4 ms against 10.4 with a pixel a
    /// work-item, docs/results/pad-rows-zen5.txt).
    /// </summary>
    public int RowSegment { get; init; }

    /// <summary>
    /// Items (groups of eight floats, floats, or image rows) a work-item of an element-wise pass
    /// over contiguous memory takes at most, in groups of one: the batch-norm, ReLU, residual-add,
    /// pad and col2im passes, the optimizers' updates and the weight average's. 0: one item a
    /// work-item, in the plan's groups. On PoCL a work-item that
    /// streams through a run of neighbouring Float8s uses whole vector loads and stores, where a
    /// group of sixteen work-items of one Float8 each is vectorised across lanes eight floats apart
    /// (resnet20's step 4-5 % faster on a Zen 5 host, docs/results/streaming-passes-zen5.txt).
    /// </summary>
    public int StreamChunk { get; init; }

    /// <summary>
    /// The vector width the OpenCL compiler is asked to prefer when it builds a kernel: 512 on
    /// PoCL's device of an AVX-512 host, whose packaged LLVM otherwise prefers 256 bits
    /// (<see cref="OpenCLBuildFlags"/>); 0, the compiler's own choice.
    /// </summary>
    public int VectorBits { get; init; }

    /// <summary>The longest serial loop a work-item may run on a GPU-shaped plan (checked by the launch-shape test).</summary>
    public const int MaxSerialLoop = 4096;

    /// <summary>Few threads, each owning a contiguous block: a few blocks per OS thread balance the load.</summary>
    public static LaunchPlan ForCpu(int osThreads) =>
        new("cpu", GemmVariant.RegisterTiled, osThreads, 0, 0, 0);

    /// <summary>
    /// One work-item per item, register-blocked GEMMs in groups of T×T threads (4T×4T tiles),
    /// reductions in chunks of 1,024. T is 16 where the device takes 256-thread groups, else the
    /// largest power of two that fits (at least 4). The register-blocked GEMM stages its slices in
    /// 8.3 KB of shared memory (GemmKernels.RegisterBlockedFloats, whatever T); a device with less
    /// (OpenCL promises 32 KB) takes the register tiles, one per work-item, instead.
    /// </summary>
    public static LaunchPlan ForGpu(int maxGroupSize = 1024, long sharedBytesPerGroup = 48 * 1024)
    {
        int t = GemmKernels.MaxSharedTile;
        while (t > 4 && t * t > maxGroupSize) t /= 2;
        var gemm = GemmKernels.RegisterBlockedFloats * sizeof(float) <= sharedBytesPerGroup ? GemmVariant.RegisterBlocked : GemmVariant.RegisterTiled;
        return new("gpu", gemm, 0, 1, t, 1024) { RowSegment = 1 };
    }

    /// <summary>
    /// One work-item per item or per 4×16 register tile, in groups of 16 (PoCL runs a group's
    /// work-items in SIMD lanes; 16 floats fill an AVX-512 register, and small groups spread even
    /// a 288-tile launch over the cores: +30 % on the seed step against ILGPU's own choice, in
    /// alternating runs of `bench --group-size`). Reductions in chunks of 4,096: two cores need
    /// little parallelism, and each chunk of a split GEMM is a launch of its own. Convolutions
    /// take the implicit GEMM wherever it fits: the seed step ran 10-16 % faster than with
    /// im2col in two alternating rounds of bench/variants.sh (docs/results/conv-variants-opencl.txt).
    /// Their weight gradients sum up to 2,048 pixels a work-item, fewer where a chunk's dZ and
    /// input rows would not fit half the core's L2 while its tiles read them (resnet20's weight
    /// gradients: 127 ms a step against 176 ms with 4,096 on a 2 MB L2; on a 512 KB L2 the last
    /// two stages' chunks of 1,024 and 512 made the step 7 % faster,
    /// docs/results/weight-grad-chunk-opencl.txt and weight-grad-chunk-by-l2-zen3.txt).
    /// Batch norm's sums take at least 128 work-items, eight groups of 16 a core: resnet20's last
    /// stage had 16, one group on one core (with batch norm's element-wise passes over groups of
    /// eight, the step 6 % faster on a Zen 5 host, docs/results/batch-norm-items-zen5.txt).
    /// </summary>
    public static LaunchPlan ForOpenCLCpu(int vectorBits = 0) =>
        new("opencl-cpu", GemmVariant.RegisterTiled, 0, 1, 0, MaxSerialLoop)
        {
            GroupSize = 16, Conv = ConvVariant.Implicit, WeightGradChunk = 2048, Tile = 0, L2Bytes = HostCache.L2Bytes(),
            MinReductionItems = 128, VectorBits = vectorBits, StreamChunk = 256,
        };

    /// <summary>
    /// Whether work goes to a few threads (<see cref="ParallelThreads"/>), each looping over a
    /// contiguous block of items: the CPU accelerator's plan, where a thread costs microseconds to
    /// schedule. False on the GPU and OpenCL-CPU plans, which launch one work-item per item (or per tile).
    /// </summary>
    public bool ThreadsOwnBlocks => ThreadsPerItem == 0;

    /// <summary>Splits count items into per-thread blocks.</summary>
    public WorkSplit Split(int count)
    {
        if (!ThreadsOwnBlocks) return new WorkSplit(count, ThreadsPerItem);
        int blocks = Math.Max(1, ParallelThreads * 4);
        return new WorkSplit(count, (count + blocks - 1) / blocks);
    }

    /// <summary>
    /// Splits count items of an element-wise pass: StreamChunk a work-item where the plan has one
    /// (fewer where that would leave under <see cref="MinStreamItems"/> work-items), rounded up to a
    /// whole multiple of runsOf, else as <see cref="Split"/>.
    /// </summary>
    public WorkSplit StreamSplit(int count, int runsOf = 1) =>
        Streams
            ? new WorkSplit(count, (Math.Clamp(count / MinStreamItems, 1, StreamChunk) + runsOf - 1) / runsOf * runsOf)
            : Split(count);

    /// <summary>Whether streaming passes take runs of up to <see cref="StreamChunk"/> items a work-item, in groups of one (PoCL's plan).</summary>
    public bool Streams => StreamChunk > 0 && !ThreadsOwnBlocks;

    /// <summary>Work-items a streaming pass keeps where it can: 32 a core of a 2-core host leave the cores' shares within 3 % of even.</summary>
    public int MinStreamItems { get; init; } = 64;

    /// <summary>Threads for register-tiled kernels: enough to fill the CPU, or one per tile.</summary>
    public int RegisterTileThreads(int tiles) => ThreadsOwnBlocks ? Math.Min(tiles, ParallelThreads * 8) : tiles;

    /// <summary>Rows (or K terms) one work-item reduces: all of them on the CPU plan, else at most ReductionChunk.</summary>
    public int ChunkLength(int length) => ReductionChunk <= 0 || length <= ReductionChunk ? Math.Max(length, 1) : ReductionChunk;

    /// <summary>Chunks a reduction over length rows is cut into.</summary>
    public int Chunks(int length) => (length + ChunkLength(length) - 1) / ChunkLength(length);

    /// <summary>
    /// Rows one work-item sums in a reduction whose chunks each take <paramref name="itemsPerChunk"/>
    /// work-items (batch norm's groups of eight channels): ChunkLength's, halved (never below 64 rows)
    /// until the chunks give at least <see cref="MinReductionItems"/> work-items.
    /// </summary>
    public int ChunkLength(int length, int itemsPerChunk)
    {
        int chunk = ChunkLength(length);
        if (ThreadsOwnBlocks) return chunk;
        while (chunk / 2 >= 64 && (long)((length + chunk - 1) / chunk) * itemsPerChunk < MinReductionItems) chunk /= 2;
        return chunk;
    }

    /// <summary>Chunks a reduction over length rows is cut into, its chunks each taking itemsPerChunk work-items.</summary>
    public int Chunks(int length, int itemsPerChunk)
    {
        int chunk = ChunkLength(length, itemsPerChunk);
        return (length + chunk - 1) / chunk;
    }

    /// <summary>
    /// How the Winograd weight gradient of F(size×size, 3×3) splits a layer's output tiles
    /// (Conv2dWinogradWeightGrad): on the CPU plan a chunk a thread, else chunks of the plan's
    /// weight-gradient pixels (WeightGradChunk, else ReductionChunk: each chunk's slab of products
    /// is read once more, so chunks stay long), longer where the slabs would pass
    /// <see cref="MaxWinogradProducts"/>; each taken in batches whose transforms fill at most a
    /// quarter of the core's L2 (1 MB where unknown), at most 64 tiles.
    /// </summary>
    public WinogradWeightGradSplit WinogradWeightGradSplit(ConvGeometry g, int filters, int size)
    {
        int tiles = Conv2dWinogradKernels.Tiles(g, size), elements = Conv2dWinogradKernels.Elements(size);
        int perChunk = ThreadsOwnBlocks
            ? (tiles + Math.Max(1, ParallelThreads) - 1) / Math.Max(1, ParallelThreads)
            : (WeightGradChunk > 0 ? WeightGradChunk : Math.Max(1, ReductionChunk)) / (size * size);
        long maxChunks = Math.Max(1, MaxWinogradProducts / ((long)elements * g.InChannels * filters));
        perChunk = (int)Math.Max(perChunk, (tiles + maxChunks - 1) / maxChunks);
        long quarter = (L2Bytes > 0 ? L2Bytes : 1L << 20) / 4;
        long batch = Math.Clamp(quarter / ((long)elements * (g.InChannels + filters) * sizeof(float)), 1, 64);
        return Kernels.WinogradWeightGradSplit.Of(tiles, filters, perChunk, (int)batch);
    }

    /// <summary>The most floats the Winograd weight gradient's slabs of products take together (64 MB).</summary>
    public const long MaxWinogradProducts = 1L << 24;

    /// <summary>
    /// Output pixels a work-item of the implicit weight gradient sums, out of <paramref name="pixels"/>,
    /// each of which reads <paramref name="bytesPerPixel"/> of input and output gradient.
    /// </summary>
    public int WeightGradChunkLength(int pixels, long bytesPerPixel)
    {
        if (WeightGradChunk <= 0 || ThreadsOwnBlocks) return ChunkLength(pixels);
        int chunk = WeightGradChunk;
        while (L2Bytes > 0 && chunk > 256 && chunk * bytesPerPixel > L2Bytes / 2) chunk /= 2;
        return Math.Min(Math.Max(pixels, 1), chunk);
    }
}
