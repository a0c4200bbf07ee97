using GpuCnn.Devices;
using ILGPU.Runtime.CPU;

namespace GpuCnn.Tests;

/// <summary>
/// CPU accelerators shared by the tests, one per launch plan: the CPU plan (register-tiled GEMM,
/// blocked splits), the GPU plan (shared-memory GEMM with 4×4 tiles, one thread per item) and the
/// generic GEMM. Every kernel test runs on all three.
/// </summary>
public sealed class TestDevices : IDisposable
{
    public ComputeDevice Cpu { get; } = ComputeDevice.Open(DeviceKind.Cpu);
    public ComputeDevice GpuPlan { get; } = ComputeDevice.OpenCpu(new CPUDevice(4, 4, 1), LaunchPlan.ForGpu() with { SharedTile = 4 });
    public ComputeDevice Generic { get; } = ComputeDevice.OpenCpu(new CPUDevice(2, 1, 1), LaunchPlan.ForCpu(2) with { Name = "generic", Gemm = GemmVariant.Generic });

    public IEnumerable<ComputeDevice> All => [Cpu, GpuPlan, Generic];

    public ComputeDevice this[string plan] => plan switch
    {
        "cpu" => Cpu,
        "gpu" => GpuPlan,
        _ => Generic,
    };

    public void Dispose()
    {
        Cpu.Dispose();
        GpuPlan.Dispose();
        Generic.Dispose();
    }
}

[CollectionDefinition("devices")]
public sealed class DeviceCollection : ICollectionFixture<TestDevices>;
