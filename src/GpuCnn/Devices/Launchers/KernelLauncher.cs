using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.OpenCL;

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
/// kernel's signature is written once, in the type of its field (TypedKernels.cs). Every entry
/// point checks its buffers against the shapes it is given before it launches (an
/// ArgumentException naming the kernel and the buffer): kernels trust their shapes and would
/// read or write past a short buffer.
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

    /// <summary>The device's measured kernel choices; null: the first candidate, unmeasured.</summary>
    readonly KernelTuner? tuner;

    /// <summary>The register tiles (KernelLauncher.Tiles) this launcher's kernels have run with, by kernel and shape, as measured on this device (now or by an earlier run).</summary>
    public IReadOnlyDictionary<string, int> TileChoices => tuner?.Used ?? new Dictionary<string, int>();

    public KernelLauncher(Accelerator accelerator, LaunchPlan plan, KernelTuner? tuner = null)
    {
        this.accelerator = accelerator;
        Plan = plan;
        this.tuner = tuner;
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

    /// <summary>
    /// Compiles a kernel through <paramref name="load"/>: on OpenCL, with the build flags of the
    /// plan's vector width. The launcher is passed in, so a typed kernel's lambda captures nothing
    /// of its Launch call: no closure is made on every launch, only when the kernel is loaded.
    /// </summary>
    T Build<T>(Func<KernelLauncher, T> load) =>
        accelerator is CLAccelerator ? OpenCLBuildFlags.Building(Plan.VectorBits, () => load(this)) : load(this);

    /// <summary>What a workspace holds: each user has its own, so a split GEMM inside a Winograd convolution keeps its inputs.</summary>
    enum Scratch { Reduction, WinogradFilter, WinogradInput, WinogradProduct, PaddedInput, FlippedKernel, ParityKernels, ParityOutputs }

    /// <summary>
    /// Scratch memory: the partial results of split reductions, the transforms of Winograd
    /// convolutions, the padded input and flipped kernel of implicit-GEMM convolutions, and the
    /// parity classes' kernels and outputs of strided input gradients. Each grows on first need
    /// (the first training step) and is then reused, so no batch after the first allocates; one
    /// operation at a time uses it, in stream order.
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

    /// <summary>Fails unless a buffer holds the elements of a shape (dimensions, e.g. N, H, W, C).</summary>
    static void Require<T>(string kernel, string buffer, ArrayView<T> view, params ReadOnlySpan<int> shape) where T : unmanaged
    {
        long needed = 1;
        foreach (int dimension in shape) needed *= dimension;
        if (view.Length < needed) throw ShortBuffer(kernel, buffer, view.Length, typeof(T), "shape " + string.Join("x", shape.ToArray()), needed);
    }

    /// <summary>Fails unless a buffer holds a rows×cols matrix read through the given strides (the message names it <paramref name="matrix"/>).</summary>
    static void RequireMatrix<T>(string kernel, string buffer, ArrayView<T> view, string matrix, int rows, int cols, int rowStride,
        int colStride = 1) where T : unmanaged
    {
        long needed = Extent(rows, cols, rowStride, colStride);
        if (view.Length < needed)
            throw ShortBuffer(kernel, buffer, view.Length, typeof(T), $"{matrix} {rows}x{cols} (strides {rowStride}, {colStride})", needed);
    }

    static ArgumentException ShortBuffer(string kernel, string buffer, long holds, Type element, string shape, long needed)
    {
        string unit = element == typeof(float) ? "floats" : element == typeof(int) ? "ints" : element == typeof(byte) ? "bytes"
            : element == typeof(double) ? "doubles" : element.Name + " elements";
        return new ArgumentException($"{kernel}: {buffer} holds {holds} {unit}, {shape} needs {needed}.", buffer);
    }

    /// <summary>Elements a strided matrix spans: the last element's offset + 1 (0 when empty).</summary>
    static long Extent(int rows, int cols, int rowStride, int colStride) =>
        rows <= 0 || cols <= 0 ? 0 : (long)(rows - 1) * rowStride + (long)(cols - 1) * colStride + 1;

    static long Ceiling(long count, long per) => per <= 0 ? count : (count + per - 1) / per;
}
