using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace GpuCnn.Devices;

/// <summary>What ILGPU reports about one device, for `gpucnn devices` and error messages.</summary>
public sealed record DeviceInfo(DeviceKind Kind, string Name, long MemoryBytes, int WarpSize,
    int MaxThreadsPerGroup, int Multiprocessors, string ComputeCapability)
{
    /// <summary>The launch plan GpuCnn runs on it (LaunchPlan's names).</summary>
    public string Plan { get; init; } = "";

    /// <summary>What GpuCnn needs that the device lacks; null when it can be used.</summary>
    public string? Missing { get; init; }

    internal static DeviceInfo From(Device device) => new(
        device.AcceleratorType switch
        {
            AcceleratorType.Cuda => DeviceKind.Cuda,
            AcceleratorType.OpenCL => DeviceKind.OpenCL,
            _ => DeviceKind.Cpu,
        },
        device.Name,
        // The CPU accelerator reports an address-space size; the usable figure is the host's memory.
        device.AcceleratorType == AcceleratorType.CPU ? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes : device.MemorySize, device.WarpSize, device.MaxNumThreadsPerGroup, device.NumMultiprocessors,
        device is CudaDevice cuda && cuda.Architecture is { } arch ? $"{arch.Major}.{arch.Minor}" : "-")
    {
        Plan = ComputeDevice.PlanName(device),
        Missing = ComputeDevice.MissingCapability(device),
    };

    public string KindName => Kind switch
    {
        DeviceKind.Cuda => "cuda",
        DeviceKind.OpenCL => "opencl",
        _ => "cpu",
    };

    public override string ToString() =>
        $"{KindName}: {Name} ({MemoryBytes / (1024.0 * 1024 * 1024):F1} GiB, warp {WarpSize}, compute {ComputeCapability})";
}
