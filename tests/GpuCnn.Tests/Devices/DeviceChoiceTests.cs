using GpuCnn.Devices;

namespace GpuCnn.Tests.Devices;

/// <summary>
/// Which devices GpuCnn takes, and with which launch plan. In the "devices" collection, so that
/// no other test opens an OpenCL context at the same moment: once, with contexts opened from
/// several test threads at once, PoCL's device was passed over by auto (CI, this session).
/// </summary>
[Collection("devices")]
public sealed class DeviceChoiceTests
{
    /// <summary>OpenCL devices without fp64 (many Intel and ARM GPUs) or without the generic address space (PoCL 3) are refused, naming what is missing.</summary>
    [Fact]
    public void OpenCLDevicesLackingACapabilityAreRefusedByName()
    {
        Assert.Null(ComputeDevice.MissingOpenCLCapability(genericAddressSpace: true, float64: true));
        Messages.Says(ComputeDevice.MissingOpenCLCapability(genericAddressSpace: true, float64: false)!, "cl_khr_fp64");
        Messages.Says(ComputeDevice.MissingOpenCLCapability(genericAddressSpace: false, float64: true)!, "generic address space");
    }

    /// <summary>An OpenCL device opens with its own plan: opencl-cpu for PoCL, gpu for a GPU. Skips without OpenCL.</summary>
    [Fact]
    public void AnOpenCLCpuDeviceGetsTheOpenCLCpuPlan()
    {
        ComputeDevice? device = null;
        try
        {
            device = ComputeDevice.Open(DeviceKind.OpenCL);
        }
        catch (DeviceUnavailableException e)
        {
            TestDevices.RequireOpenCL(null, e.Message);
            return;
        }
        using (device)
        {
            var expected = device.Info.Name.Contains("cpu", StringComparison.OrdinalIgnoreCase) ? "opencl-cpu" : "gpu";
            Assert.Equal(expected, device.Plan.Name);
        }
    }

    /// <summary>
    /// auto takes CUDA first, else a usable OpenCL device over ILGPU's CPU accelerator (PoCL is
    /// faster: docs/performance.md). Skips where there is neither.
    /// </summary>
    [Fact]
    public void AutoPrefersAGpuThenAUsableOpenCLDeviceOverTheCpuAccelerator()
    {
        using var auto = ComputeDevice.Open(DeviceKind.Auto);
        if (ComputeDevice.ListDevices().Any(d => d.Kind == DeviceKind.Cuda))
        {
            Assert.Equal(DeviceKind.Cuda, auto.Info.Kind);
            return;
        }
        try
        {
            ComputeDevice.Open(DeviceKind.OpenCL).Dispose();
        }
        catch (DeviceUnavailableException e)
        {
            TestDevices.RequireOpenCL(null, e.Message);
        }
        Assert.Equal(DeviceKind.OpenCL, auto.Info.Kind);
    }
}
