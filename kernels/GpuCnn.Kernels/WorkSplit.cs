namespace GpuCnn.Kernels;

/// <summary>
/// How an element-wise or per-row kernel splits n items among its threads. Thread t owns the
/// contiguous block [t*Chunk, min(n, (t+1)*Chunk)). A CPU launch plan uses few threads with big
/// chunks (launching a thread costs microseconds there); a GPU plan uses Chunk = 1.
/// </summary>
public readonly struct WorkSplit
{
    public readonly int Count;
    public readonly int Chunk;

    public WorkSplit(int count, int chunk)
    {
        Count = count;
        Chunk = chunk < 1 ? 1 : chunk;
    }

    /// <summary>Threads to launch so that every item is owned by exactly one thread.</summary>
    public int Threads => Count == 0 ? 0 : (Count + Chunk - 1) / Chunk;

    public int Start(int thread) => thread * Chunk;

    public int End(int thread)
    {
        long end = (long)(thread + 1) * Chunk;
        return end < Count ? (int)end : Count;
    }
}
