using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace GpuCnn.Devices;

/// <summary>
/// One opened accelerator with its launch plan and its kernels (each compiled once, on first use).
/// Everything that allocates device memory or launches a kernel goes through one of these.
/// </summary>
public sealed class ComputeDevice : IDisposable
{
    readonly Context context;

    public Accelerator Accelerator { get; }
    public DeviceInfo Info { get; }
    public LaunchPlan Plan { get; }
    public KernelLauncher Kernels { get; }

    ComputeDevice(Context context, Accelerator accelerator, DeviceInfo info, LaunchPlan plan)
    {
        this.context = context;
        Accelerator = accelerator;
        Info = info;
        Plan = plan;
        Kernels = new KernelLauncher(accelerator, plan, new KernelTuner(accelerator, KernelTuner.FileFor(info, plan.VectorBits)));
    }

    /// <summary>
    /// The CPU accelerator runs one OS thread per logical thread of a group; one per core with
    /// one group per launch step is what measured fastest here (docs/performance.md).
    /// </summary>
    static CPUDevice CpuDeviceForThisMachine()
    {
        int threads = 2;
        while (threads < Environment.ProcessorCount) threads *= 2;
        return new CPUDevice(threads, 1, 1);
    }

    /// <summary>
    /// A context with the CPU accelerator and, unless only the CPU is wanted, every CUDA and
    /// OpenCL device: also those ILGPU cannot use, so that GpuCnn can say what they lack. A
    /// CPU-only context does not touch the GPU drivers or PoCL at all.
    /// </summary>
    static Context CreateContext(CPUDevice cpu, bool cpuOnly = false) =>
        Context.Create(builder =>
        {
            builder.CPU(cpu).EnableAlgorithms().EnableFusedMultiplyAdd();
            if (!cpuOnly) builder.Cuda().OpenCL(_ => true);
        });

    /// <summary>Every device ILGPU finds on this machine.</summary>
    public static IReadOnlyList<DeviceInfo> ListDevices()
    {
        using var context = CreateContext(CpuDeviceForThisMachine());
        return context.Devices.Select(DeviceInfo.From).ToList();
    }

    /// <summary>Opens the asked-for kind; fails with the list of devices found when it is absent.</summary>
    /// <param name="ordinal">Which of several usable devices of the picked type (modulo their count): a data-parallel rank passes its local rank, so the ranks of a node spread over its GPUs.</param>
    public static ComputeDevice Open(DeviceKind kind, LaunchPlan? planOverride = null, int ordinal = 0)
    {
        var context = CreateContext(CpuDeviceForThisMachine(), cpuOnly: kind == DeviceKind.Cpu);
        try
        {
            var device = Pick(context, kind);
            if (ordinal > 0)
            {
                var peers = context.Devices.Where(d => d.AcceleratorType == device.AcceleratorType && MissingCapability(d) is null).ToList();
                if (peers.Count > 1) device = peers[ordinal % peers.Count];
            }
            var info = DeviceInfo.From(device);
            if (MissingCapability(device) is { } missing)
                throw new DeviceUnavailableException(
                    $"ILGPU found {info} but GpuCnn cannot use it: the device lacks {missing}. {FoundList(context)}");
            Accelerator accelerator;
            try
            {
                accelerator = device.CreateAccelerator(context);
            }
            catch (Exception e) when (e is NotSupportedException or InvalidOperationException
                                          || e.GetType().Name.Contains("CapabilityNotSupported"))
            {
                throw new DeviceUnavailableException(
                    $"ILGPU found {info} but cannot use it: {e.Message}. {FoundList(context)}");
            }
            var plan = planOverride ?? PlanFor(accelerator, device);
            return new ComputeDevice(context, accelerator, info, plan);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A CPU accelerator with a chosen thread layout and plan, for tests and benchmarks that run
    /// GPU launch plans on the CPU (a shared-memory tile of t×t needs groups of t² threads).
    /// </summary>
    public static ComputeDevice OpenCpu(CPUDevice cpu, LaunchPlan plan)
    {
        var context = CreateContext(cpu, cpuOnly: true);
        var device = context.Devices.First(d => d.AcceleratorType == AcceleratorType.CPU);
        return new ComputeDevice(context, device.CreateAccelerator(context), DeviceInfo.From(device), plan);
    }

    /// <summary>The launch plan a device gets unless a test or the bench asks for another.</summary>
    static LaunchPlan PlanFor(Accelerator accelerator, Device device) => accelerator switch
    {
        CPUAccelerator cpu => LaunchPlan.ForCpu(cpu.NumThreads),
        _ when IsOpenCLCpu(device) => LaunchPlan.ForOpenCLCpu(OpenCLBuildFlags.WidestVectorBits((CLDevice)device)),
        _ => LaunchPlan.ForGpu(accelerator.MaxNumThreadsPerGroup, accelerator.MaxSharedMemoryPerGroup),
    };

    /// <summary>The name of the plan <see cref="PlanFor"/> gives the device.</summary>
    internal static string PlanName(Device device) =>
        device.AcceleratorType == AcceleratorType.CPU ? "cpu" : IsOpenCLCpu(device) ? "opencl-cpu" : "gpu";

    static bool IsOpenCLCpu(Device device) => device is CLDevice { DeviceType: CLDeviceType.CL_DEVICE_TYPE_CPU };

    /// <summary>
    /// What GpuCnn needs that an OpenCL device lacks, or null. ILGPU's OpenCL backend needs the
    /// generic address space (OpenCL C 2.0; PoCL 4 and later have it, PoCL 3 does not), and the
    /// metric totals and dropout's generator use doubles (cl_khr_fp64).
    /// </summary>
    internal static string? MissingCapability(Device device) =>
        device is CLDevice cl ? MissingOpenCLCapability(cl.Capabilities.GenericAddressSpace, cl.Capabilities.Float64) : null;

    internal static string? MissingOpenCLCapability(bool genericAddressSpace, bool float64) =>
        !genericAddressSpace ? "the OpenCL generic address space that ILGPU needs (OpenCL C 2.0; for a CPU, PoCL 4 or later)"
        : !float64 ? "double precision (the cl_khr_fp64 extension), which GpuCnn's metric and dropout kernels use"
        : null;

    /// <summary>
    /// The device --device picks. auto: CUDA, then an OpenCL GPU, then an OpenCL CPU device
    /// (PoCL runs GpuCnn's kernels vectorised, faster than ILGPU's scalar CPU accelerator:
    /// docs/performance.md), then the CPU accelerator; devices GpuCnn cannot use are passed over.
    /// </summary>
    static Device Pick(Context context, DeviceKind kind)
    {
        Device? Find(AcceleratorType type) => context.Devices.FirstOrDefault(d => d.AcceleratorType == type);
        Device? found = kind switch
        {
            DeviceKind.Cuda => Find(AcceleratorType.Cuda),
            DeviceKind.OpenCL => context.Devices.Where(d => d.AcceleratorType == AcceleratorType.OpenCL)
                .OrderBy(d => MissingCapability(d) is null ? 0 : 1).FirstOrDefault(),
            DeviceKind.Cpu => Find(AcceleratorType.CPU),
            _ => context.Devices.Where(d => MissingCapability(d) is null).OrderBy(AutoRank).FirstOrDefault(),
        };
        return found ?? throw new DeviceUnavailableException(
            $"No {KindName(kind)} device found. {FoundList(context)}");
    }

    static int AutoRank(Device device) => device switch
    {
        CudaDevice => 0,
        CLDevice when !IsOpenCLCpu(device) => 1,
        CLDevice => 2,
        _ => 3,
    };

    static string KindName(DeviceKind kind) => kind switch
    {
        DeviceKind.Cuda => "CUDA",
        DeviceKind.OpenCL => "OpenCL",
        DeviceKind.Cpu => "CPU",
        _ => "usable",
    };

    static string FoundList(Context context) =>
        "Devices found: " + string.Join("; ", context.Devices.Select(d => DeviceInfo.From(d).ToString())) +
        ". The CPU accelerator is always there.";

    public void Synchronize() => Accelerator.Synchronize();

    /// <summary>
    /// The memory a model may plan to use here: the device's memory; where that memory is the
    /// host's (the CPU accelerator, an OpenCL CPU device), no more than the host has available now.
    /// </summary>
    public long AvailableMemoryBytes => Info.Plan is "cpu" or "opencl-cpu" ? Math.Min(Info.MemoryBytes, HostAvailableBytes()) : Info.MemoryBytes;

    /// <summary>MemAvailable from /proc/meminfo where there is one, within the process's limit (a container's); else the GC's view.</summary>
    static long HostAvailableBytes()
    {
        var gc = GC.GetGCMemoryInfo();
        long limit = gc.TotalAvailableMemoryBytes;
        try
        {
            foreach (string line in File.ReadLines("/proc/meminfo"))
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal)
                    && long.TryParse(line["MemAvailable:".Length..].Trim().Split(' ')[0], out long kib))
                    return Math.Min(limit, kib * 1024);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return gc.MemoryLoadBytes > 0 ? Math.Max(0, limit - gc.MemoryLoadBytes) : limit;
    }

    public void Dispose()
    {
        Kernels.Dispose();
        Accelerator.Dispose();
        context.Dispose();
    }
}
