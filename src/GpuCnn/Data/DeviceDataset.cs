using GpuCnn.Devices;
using GpuCnn.Tensors;

namespace GpuCnn.Data;

/// <summary>
/// An image set uploaded once to the device as uint8 pixels and labels; mini-batches are
/// gathered from it on the device (DataKernels.GatherBatch), never copied from the host.
/// </summary>
public sealed class DeviceDataset : IDisposable
{
    public int Count { get; }
    public int Height { get; }
    public int Width { get; }
    public int Channels { get; }
    public byte[] HostLabels { get; }

    /// <summary>The images' pixels, [count, height, width, channels], 0-255.</summary>
    public Tensor<byte> Pixels { get; }

    /// <summary>The class of each image, [count].</summary>
    public Tensor<byte> Labels { get; }

    public DeviceDataset(ComputeDevice device, ImageSet set)
    {
        Count = set.Count;
        Height = set.Height;
        Width = set.Width;
        Channels = set.Channels;
        HostLabels = set.Labels;
        Pixels = Tensor<byte>.Upload(device, set.Pixels, [Count, Height, Width, Channels], "the image set");
        try
        {
            Labels = Tensor<byte>.Upload(device, set.Labels, [Count], "the labels");
        }
        catch
        {
            Pixels.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Pixels.Dispose();
        Labels.Dispose();
    }
}
