using GpuCnn.Tensors;

namespace GpuCnn.Tests.Devices;

[Collection("devices")]
public sealed class DeviceMemoryTests(TestDevices devices)
{
    [Fact]
    public void OutOfMemoryIsReportedWithTheSizesInvolved()
    {
        // 4 TiB: refused by the allocator at once, nothing is touched.
        var e = Assert.Throws<DeviceOutOfMemoryException>(() => DeviceMemory.Allocate<float>(devices.Cpu, 1L << 40, "a test tensor"));
        Messages.Says(e.Message, "Out of device memory allocating a test tensor: 4194304.0 MiB asked");
        Messages.Says(e.Message, "Try a smaller batch size");
    }
}
