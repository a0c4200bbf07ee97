using GpuCnn.Randomness;
using GpuCnn.Data;
using GpuCnn.Devices;
using GpuCnn.Kernels;
using GpuCnn.Tensors;
using ILGPU;
using ILGPU.Runtime;

namespace GpuCnn.Training;

/// <summary>Augmentation done on the device while gathering a batch.</summary>
public sealed record Augmentation(int MaxShift = 0, bool Flip = false)
{
    public static readonly Augmentation None = new();
    public bool Active => MaxShift > 0 || Flip;
}

/// <summary>
/// Feeds mini-batches of one subset of a device dataset: an order of image indices lives on the
/// device (uploaded once per epoch, shuffled or not) and each batch is gathered from it there.
/// </summary>
public sealed class BatchFeeder : IDisposable
{
    readonly ComputeDevice device;
    readonly DeviceDataset data;
    readonly int[] subset;
    readonly MemoryBuffer1D<int, Stride1D.Dense> order, labels;
    readonly Tensor input;

    public int Count => subset.Length;
    public int BatchSize { get; }
    public int Batches => (Count + BatchSize - 1) / BatchSize;
    public ArrayView<int> Labels => labels.View;

    /// <param name="subset">Indices into data of the images this feeder serves.</param>
    public BatchFeeder(ComputeDevice device, DeviceDataset data, int[] subset, int batchSize)
    {
        this.device = device;
        this.data = data;
        this.subset = subset;
        BatchSize = batchSize;
        order = DeviceMemory.Allocate<int>(device, Math.Max(1, subset.Length), "batch order");
        order.View.SubView(0, subset.Length).CopyFromCPU(subset);
        labels = DeviceMemory.Allocate<int>(device, batchSize, "batch labels");
        input = Tensor.Zeros(device, batchSize, data.Height, data.Width, data.Channels);
    }

    /// <summary>Shuffles the order for an epoch; the permutation depends only on the seed.</summary>
    public void Shuffle(int seed)
    {
        var shuffled = (int[])subset.Clone();
        new SeededRandom(seed).Shuffle(shuffled);
        order.View.SubView(0, shuffled.Length).CopyFromCPU(shuffled);
    }

    public int RowsOf(int batch) => Math.Min(BatchSize, Count - batch * BatchSize);

    /// <summary>Gathers batch number <paramref name="batch"/> into the input tensor and the label buffer.</summary>
    public Tensor Gather(int batch, Augmentation augmentation, uint seed)
    {
        int rows = RowsOf(batch);
        var args = new GatherArgs
        {
            Height = data.Height, Width = data.Width, Channels = data.Channels, OrderOffset = batch * BatchSize,
            MaxShift = augmentation.MaxShift, Flip = augmentation.Flip ? 1 : 0, Seed = seed,
        };
        var x = input.FirstRows(rows);
        device.Kernels.GatherBatch(data.Pixels, data.Labels, order.View, x.View, labels.View, rows, args);
        return x;
    }

    /// <summary>Labels of the subset, in the current (unshuffled) order, on the host.</summary>
    public byte[] HostLabels() => subset.Select(i => data.HostLabels[i]).ToArray();

    public void Dispose()
    {
        order.Dispose();
        labels.Dispose();
        input.Dispose();
    }
}
