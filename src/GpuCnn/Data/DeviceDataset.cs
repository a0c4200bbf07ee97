using GpuCnn.Devices;
using GpuCnn.Tensors;
using ILGPU;
using ILGPU.Runtime;

namespace GpuCnn.Data;

/// <summary>
/// An image set uploaded once to the device as uint8 pixels and labels; mini-batches are
/// gathered from it on the device (DataKernels.GatherBatch), never copied from the host.
/// </summary>
public sealed class DeviceDataset : IDisposable
{
    readonly MemoryBuffer1D<byte, Stride1D.Dense> pixels, labels;

    public int Count { get; }
    public int Height { get; }
    public int Width { get; }
    public int Channels { get; }
    public byte[] HostLabels { get; }
    public ArrayView<byte> Pixels => pixels.View;
    public ArrayView<byte> Labels => labels.View;

    public DeviceDataset(ComputeDevice device, ImageSet set)
    {
        Count = set.Count;
        Height = set.Height;
        Width = set.Width;
        Channels = set.Channels;
        HostLabels = set.Labels;
        pixels = DeviceMemory.Allocate<byte>(device, set.Pixels.Length, "the image set");
        pixels.View.CopyFromCPU(set.Pixels);
        labels = DeviceMemory.Allocate<byte>(device, set.Labels.Length, "the labels");
        labels.View.CopyFromCPU(set.Labels);
    }

    public void Dispose()
    {
        pixels.Dispose();
        labels.Dispose();
    }
}
