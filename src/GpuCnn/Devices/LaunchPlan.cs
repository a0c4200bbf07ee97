using GpuCnn.Kernels;

namespace GpuCnn.Devices;

/// <summary>How the GEMM behind dense and convolution layers runs.</summary>
public enum GemmVariant
{
    /// <summary>4×16 register tiles per thread, few threads: the CPU accelerator's plan.</summary>
    RegisterTiled,
    /// <summary>16×16 shared-memory tiles, one thread per output: the GPU plan.</summary>
    SharedTiled,
    /// <summary>One plain loop per output element: any shape, slowest.</summary>
    Generic,
}

/// <summary>
/// How kernels are launched on one kind of device. On ILGPU's CPU accelerator each logical
/// thread costs microseconds to schedule, so work goes to a few threads with large contiguous
/// shares; on a GPU, to one thread per item. Chosen when the device opens; tests and benchmarks
/// build other plans to run every variant on the CPU.
/// </summary>
public sealed record LaunchPlan(string Name, GemmVariant Gemm, int ParallelThreads, int ThreadsPerItem, int SharedTile)
{
    /// <summary>Few threads, each owning a contiguous block: a few blocks per OS thread balance the load.</summary>
    public static LaunchPlan ForCpu(int osThreads) =>
        new("cpu", GemmVariant.RegisterTiled, osThreads, 0, 0);

    /// <summary>One thread per item and shared-memory GEMM tiles of 16×16.</summary>
    public static LaunchPlan ForGpu() => new("gpu", GemmVariant.SharedTiled, 0, 1, 16);

    public bool IsCpu => ThreadsPerItem == 0;

    /// <summary>Splits count items into per-thread blocks.</summary>
    public WorkSplit Split(int count)
    {
        if (!IsCpu) return new WorkSplit(count, ThreadsPerItem);
        int blocks = Math.Max(1, ParallelThreads * 4);
        return new WorkSplit(count, (count + blocks - 1) / blocks);
    }

    /// <summary>Threads for GemmRegisterTiled: enough to fill the CPU, or one per tile on a GPU.</summary>
    public int RegisterTileThreads(int tiles) => IsCpu ? Math.Min(tiles, ParallelThreads * 8) : tiles;
}
