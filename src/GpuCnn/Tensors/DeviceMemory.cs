using GpuCnn.Devices;
using ILGPU;
using ILGPU.Runtime;

namespace GpuCnn.Tensors;

/// <summary>The device ran out of memory; the message says what was asked for and what the device has.</summary>
public sealed class DeviceOutOfMemoryException(string message, Exception inner) : Exception(message, inner);

/// <summary>Allocations that report sizes when the device is out of memory.</summary>
public static class DeviceMemory
{
    public static MemoryBuffer1D<T, Stride1D.Dense> Allocate<T>(ComputeDevice device, long length, string what)
        where T : unmanaged
    {
        try
        {
            return device.Accelerator.Allocate1D<T>(length);
        }
        catch (Exception e) when (e is OutOfMemoryException or AcceleratorException or InsufficientExecutionStackException)
        {
            long bytes = length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
            throw new DeviceOutOfMemoryException(
                $"Out of device memory allocating {what}: {bytes / 1048576.0:F1} MiB asked, device has " +
                $"{device.Accelerator.MemorySize / 1048576.0:F0} MiB in all. Try a smaller batch size.", e);
        }
    }
}
