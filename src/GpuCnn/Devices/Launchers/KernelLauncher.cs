using ILGPU;
using ILGPU.Runtime;

namespace GpuCnn.Devices;

/// <summary>One kernel launch as the launcher made it, for the launch-shape test and the bench.</summary>
/// <param name="WorkItems">Work-items launched.</param>
/// <param name="GroupSize">Work-items per group, or 0 where ILGPU picks it (auto-grouped kernels on plans without a group size).</param>
/// <param name="SerialLoop">The most output or reduction elements one work-item loops over.</param>
public sealed record LaunchRecord(string Kernel, long WorkItems, int GroupSize, long SerialLoop);

/// <summary>
/// Typed entry points for every kernel: each is compiled on first use, cached, and launched with
/// the thread counts of the device's <see cref="LaunchPlan"/>. Layers call these, never ILGPU.
/// One file per kernel family (Launchers/*.cs), as kernels/ has one file per family; each
/// kernel's signature is written once, in the type of its field (TypedKernels.cs).
/// </summary>
public sealed partial class KernelLauncher : IDisposable
{
    readonly Accelerator accelerator;
    readonly MemoryBuffer1D<float, Stride1D.Dense> noBias;
    readonly MemoryBuffer1D<float, Stride1D.Dense>?[] workspaces = new MemoryBuffer1D<float, Stride1D.Dense>?[Enum.GetValues<Scratch>().Length];

    public LaunchPlan Plan { get; }

    /// <summary>Sees every launch (tests, bench). Null in training.</summary>
    public Action<LaunchRecord>? Observer { get; set; }

    /// <summary>Record launches without running them: the launch-shape test's dry run.</summary>
    public bool DryRun { get; set; }

    public KernelLauncher(Accelerator accelerator, LaunchPlan plan)
    {
        this.accelerator = accelerator;
        Plan = plan;
        noBias = accelerator.Allocate1D<float>(16);
    }

    public void Dispose()
    {
        noBias.Dispose();
        foreach (var buffer in workspaces) buffer?.Dispose();
    }

    /// <summary>Reports a launch (implicitly grouped ones with the plan's group size); false when it must not run (dry run).</summary>
    bool Launching(string kernel, long workItems, long serialLoop, int groupSize = 0)
    {
        Observer?.Invoke(new LaunchRecord(kernel, workItems, groupSize > 0 ? groupSize : Plan.GroupSize, serialLoop));
        return !DryRun && workItems > 0;
    }

    /// <summary>What a workspace holds: each user has its own, so a split GEMM inside a Winograd convolution keeps its inputs.</summary>
    enum Scratch { Reduction, WinogradFilter, WinogradInput, WinogradProduct }

    /// <summary>
    /// Scratch memory: the partial results of split reductions, and the transforms of Winograd
    /// convolutions. Each grows on first need (the first training step) and is then reused, so
    /// no batch after the first allocates; one operation at a time uses it, in stream order.
    /// </summary>
    ArrayView<float> Workspace(long floats, Scratch use = Scratch.Reduction)
    {
        ref var workspace = ref workspaces[(int)use];
        if (workspace is null || workspace.Length < floats)
        {
            accelerator.Synchronize(); // queued kernels may still read the old buffer
            workspace?.Dispose();
            workspace = accelerator.Allocate1D<float>(Math.Max(floats, 1024));
        }
        return workspace.View.SubView(0, floats);
    }

    static long Ceiling(long count, long per) => per <= 0 ? count : (count + per - 1) / per;
}
