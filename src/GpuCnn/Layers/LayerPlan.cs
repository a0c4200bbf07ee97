using GpuCnn.Devices;

namespace GpuCnn.Layers;

/// <summary>What a planned device buffer is for.</summary>
public enum BufferUse
{
    /// <summary>A trained weight: the model keeps its value, its gradient and the optimizer's state.</summary>
    Parameter,
    /// <summary>A tracked, non-trainable value (batch norm's moving statistics).</summary>
    Tracked,
    /// <summary>A buffer the layer owns: activations, gradients, im2col columns, transposed kernels.</summary>
    Buffer,
    /// <summary>
    /// The device's shared scratch (split reductions, Winograd transforms): one buffer per
    /// <see cref="PlannedBuffer.What"/>, as large as its largest user.
    /// </summary>
    Workspace,
}

/// <param name="Layer">The layer's name.</param>
/// <param name="What">e.g. "output", "columns", or the workspace's name.</param>
/// <param name="Elements">4-byte elements; saturates at long.MaxValue instead of wrapping.</param>
public sealed record PlannedBuffer(string Layer, string What, BufferUse Use, long Elements);

/// <summary>
/// What a layer will allocate for batches of up to <see cref="MaxBatch"/>, worked out from shapes
/// alone, before any device memory is touched. Sizes are longs that saturate, so a size that
/// would overflow an int (or a long) is seen rather than wrapped.
/// </summary>
public sealed class LayerPlan(string layer, int maxBatch, LaunchPlan launch)
{
    readonly List<PlannedBuffer> buffers = [];

    public string Layer => layer;
    public int MaxBatch => maxBatch;
    /// <summary>The device's launch plan: its reduction chunk sizes the split-K workspaces.</summary>
    public LaunchPlan Launch => launch;
    public int[] OutputShape { get; set; } = [];
    public IReadOnlyList<PlannedBuffer> Buffers => buffers;

    public void Parameter(string what, params long[] shape) => Add(what, BufferUse.Parameter, Product(shape));

    public void Tracked(string what, params long[] shape) => Add(what, BufferUse.Tracked, Product(shape));

    public void Buffer(string what, params long[] shape) => Add(what, BufferUse.Buffer, Product(shape));

    /// <summary>A buffer of [MaxBatch, ..perSample].</summary>
    public void BatchBuffer(string what, int[] perSample) =>
        Add(what, BufferUse.Buffer, Product([maxBatch, .. perSample.Select(d => (long)d)]));

    public void Workspace(string what, params long[] shape) => Add(what, BufferUse.Workspace, Product(shape));

    /// <summary>The partial products of an M×N GEMM whose K is split into chunks (as KernelLauncher.Gemm splits it).</summary>
    public void Gemm(long m, long n, long k) => SplitReduction(k, m, n);

    /// <summary>A reduction over <paramref name="length"/> rows of <paramref name="width"/> values each, split into chunks on GPU-shaped plans.</summary>
    public void SplitReduction(long length, params long[] width)
    {
        long chunks = Chunks(length);
        if (chunks > 1) Workspace("reduction", [chunks, .. width]);
    }

    /// <summary>A per-column reduction over rows of columns values (batch norm's), cut as LaunchPlan.ChunkLength(rows, columns / 8) cuts it.</summary>
    public void ColumnReduction(long rows, int columns, int copies)
    {
        int length = (int)Math.Min(rows, int.MaxValue);
        long chunks = launch.Chunks(length, Math.Max(1, columns / 8));
        if (chunks > 1) Workspace("reduction", [chunks, copies, columns]);
    }

    long Chunks(long length)
    {
        int chunk = launch.ReductionChunk;
        return chunk <= 0 || length <= chunk ? 1 : (length + chunk - 1) / chunk;
    }

    /// <summary>Another layer's plan as part of this one (a residual block's inner layers).</summary>
    public void Include(LayerPlan inner) => buffers.AddRange(inner.Buffers);

    void Add(string what, BufferUse use, long elements) => buffers.Add(new PlannedBuffer(layer, what, use, elements));

    /// <summary>The product of sizes, saturating at long.MaxValue.</summary>
    public static long Product(params long[] factors)
    {
        long product = 1;
        foreach (long f in factors)
        {
            if (f <= 0) return 0;
            product = product > long.MaxValue / f ? long.MaxValue : product * f;
        }
        return product;
    }
}
