namespace GpuCnn.Devices;

/// <summary>Which accelerator to train on. Auto prefers CUDA, then OpenCL, then the CPU.</summary>
public enum DeviceKind
{
    Auto,
    Cuda,
    OpenCL,
    Cpu,
}

/// <summary>A device was asked for that this machine does not have (or that ILGPU cannot drive).</summary>
public sealed class DeviceUnavailableException(string message) : Exception(message);
