using GpuCnn.Devices;
using ILGPU.Runtime.CPU;

namespace GpuCnn.Tests;

/// <summary>
/// Devices shared by the tests, one per launch plan. On ILGPU's CPU accelerator: the CPU plan
/// (register-tiled GEMM, blocked splits, whole reductions), the GPU plan (shared-memory GEMM with
/// 4×4 tiles, one thread per item, reductions cut into chunks of 8 rows so the two-stage paths
/// run on small shapes) and the generic GEMM. On an OpenCL device (PoCL in CI, through
/// tools/with-opencl.sh): the GPU plan exactly as a GPU runs it (16×16 tiles, 256-work-item
/// groups, chunks of 1,024) and the OpenCL-CPU plan (with chunks of 8, weight gradients too). On a CUDA GPU (the GPU
/// kit, tools/gpu-check.sh): the plan the GPU gets. Every kernel test runs on all six; the OpenCL
/// ones skip, saying so, when no usable OpenCL device is found, and fail instead when
/// GPUCNN_REQUIRE_OPENCL=1 (CI); the CUDA ones likewise with GPUCNN_REQUIRE_CUDA=1 (the GPU kit).
/// Rows on CUDA carry the trait plan=cuda and those of the GPU plan on OpenCL plan=opencl-gpu, so
/// the GPU kit runs just them (-preEnumerateTheories -trait plan=cuda; plan=opencl-gpu in its dry run).
/// </summary>
public sealed class TestDevices : IDisposable
{
    public const string OpenCLGpu = "opencl-gpu", OpenCLCpu = "opencl-cpu", Cuda = "cuda";

    /// <summary>The trait that marks a test or row on CUDA: `-trait plan=cuda` selects them.</summary>
    public const string PlanTrait = "plan";

    /// <summary>Every plan name.</summary>
    public static readonly string[] PlanNames = ["cpu", "gpu", "generic", OpenCLGpu, OpenCLCpu, Cuda];

    /// <summary>Every plan name, for theories; the CUDA row with its trait.</summary>
    public static TheoryData<string> Plans
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (string plan in PlanNames) data.Add(Traited(new TheoryDataRow<string>(plan), plan));
            return data;
        }
    }

    /// <summary>The row, marked with its plan where that is a real GPU's (cuda) or the GPU plan as a GPU runs it (opencl-gpu).</summary>
    public static TRow Traited<TRow>(TRow row, string plan) where TRow : TheoryDataRowBase =>
        plan is Cuda or OpenCLGpu ? row.WithTrait(PlanTrait, plan) : row;

    public ComputeDevice Cpu { get; } = ComputeDevice.Open(DeviceKind.Cpu);
    public ComputeDevice GpuPlan { get; } = Open("gpu", LaunchPlan.ForGpu() with { SharedTile = 4, ReductionChunk = 8 });
    public ComputeDevice Generic { get; } = Open("generic", LaunchPlan.ForCpu(2) with { Name = "generic", Gemm = GemmVariant.Generic });

    /// <summary>A device on the CPU accelerator for a plan: the GPU plan needs groups of 16 threads (4×4 tiles).</summary>
    static ComputeDevice Open(string plan, LaunchPlan launchPlan) => plan switch
    {
        "cpu" => ComputeDevice.Open(DeviceKind.Cpu, launchPlan),
        "gpu" => ComputeDevice.OpenCpu(new CPUDevice(4, 4, 1), launchPlan),
        _ => ComputeDevice.OpenCpu(new CPUDevice(2, 1, 1), launchPlan),
    };

    readonly Lazy<ComputeDevice?> openCLGpu = new(() => OpenOpenCL(LaunchPlan.ForGpu()));
    // Short chunks, pad segments and element-wise runs, so that the tests' small shapes take the split paths too; 512-bit
    // vectors asked for on every host, so that every kernel is checked as built with those flags
    // (a host without AVX-512 keeps its own width).
    readonly Lazy<ComputeDevice?> openCLCpu = new(() => OpenOpenCL(LaunchPlan.ForOpenCLCpu(vectorBits: 512) with { ReductionChunk = 8, WeightGradChunk = 8, RowSegment = 3, StreamChunk = 3, MinStreamItems = 1 }));
    readonly Lazy<ComputeDevice?> cuda = new(() => OpenCuda(null));

    /// <summary>The three plans on the CPU accelerator, always present.</summary>
    public IEnumerable<ComputeDevice> All => [Cpu, GpuPlan, Generic];

    public ComputeDevice this[string plan] => plan switch
    {
        "cpu" => Cpu,
        "gpu" => GpuPlan,
        OpenCLGpu => RequireOpenCL(openCLGpu.Value),
        OpenCLCpu => RequireOpenCL(openCLCpu.Value),
        Cuda => RequireCuda(cuda.Value),
        _ => Generic,
    };

    readonly Dictionary<(string, ConvVariant, int), ComputeDevice?> convVariants = [];

    /// <summary>
    /// The plan's device with its convolutions forced to one variant and, unless tile is 0, the
    /// implicit convolutions to that register tile (KernelLauncher.Tiles; opened once, then shared).
    /// </summary>
    public ComputeDevice WithConv(string plan, ConvVariant conv, int tile = 0)
    {
        if (conv == ConvVariant.Auto && tile == 0) return this[plan];
        lock (convVariants)
        {
            if (!convVariants.TryGetValue((plan, conv, tile), out var device))
            {
                var basePlan = this[plan].Plan with { Conv = conv == ConvVariant.Auto ? this[plan].Plan.Conv : conv };
                if (tile != 0) basePlan = basePlan with { Tile = tile };
                device = plan switch
                {
                    OpenCLGpu or OpenCLCpu => OpenOpenCL(basePlan),
                    Cuda => OpenCuda(basePlan),
                    _ => Open(plan, basePlan),
                };
                convVariants[(plan, conv, tile)] = device;
            }
            return plan == Cuda ? RequireCuda(device) : RequireOpenCL(device);
        }
    }

    /// <summary>Why no OpenCL device could be opened, or null when one was.</summary>
    public static string? OpenCLAbsence { get; private set; }

    static ComputeDevice? OpenOpenCL(LaunchPlan plan)
    {
        try
        {
            return ComputeDevice.Open(DeviceKind.OpenCL, plan);
        }
        catch (DeviceUnavailableException e)
        {
            OpenCLAbsence = e.Message;
            return null;
        }
    }

    /// <summary>The OpenCL device, or a skip (a failure where CI requires OpenCL), saying why there is none.</summary>
    public static ComputeDevice RequireOpenCL(ComputeDevice? device, string? absence = null)
    {
        if (device is not null) return device;
        OptionalRuntime.Require("OPENCL", $"no usable OpenCL device ({absence ?? OpenCLAbsence}); run the tests through tools/with-opencl.sh");
        return null!;
    }

    /// <summary>Why no CUDA device could be opened, or null when one was.</summary>
    public static string? CudaAbsence { get; private set; }

    /// <summary>The CUDA GPU with the plan it gets (or another), or null when there is none.</summary>
    public static ComputeDevice? OpenCuda(LaunchPlan? plan)
    {
        try
        {
            return ComputeDevice.Open(DeviceKind.Cuda, plan);
        }
        catch (DeviceUnavailableException e)
        {
            CudaAbsence = e.Message;
            return null;
        }
    }

    /// <summary>The CUDA device, or a skip (a failure where the GPU kit requires CUDA), saying why there is none.</summary>
    public static ComputeDevice RequireCuda(ComputeDevice? device, string? absence = null)
    {
        if (device is not null) return device;
        OptionalRuntime.Require("CUDA", $"no CUDA device ({absence ?? CudaAbsence}); the GPU kit runs these on a GPU (tools/gpu-check.sh)");
        return null!;
    }

    public void Dispose()
    {
        Cpu.Dispose();
        GpuPlan.Dispose();
        Generic.Dispose();
        if (openCLGpu.IsValueCreated) openCLGpu.Value?.Dispose();
        if (openCLCpu.IsValueCreated) openCLCpu.Value?.Dispose();
        if (cuda.IsValueCreated) cuda.Value?.Dispose();
        foreach (var device in convVariants.Values) device?.Dispose();
    }
}

[CollectionDefinition("devices")]
public sealed class DeviceCollection : ICollectionFixture<TestDevices>;
