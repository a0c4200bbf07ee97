using GpuCnn.Randomness;
using GpuCnn.Data;
using GpuCnn.Devices;
using GpuCnn.Kernels;
using GpuCnn.Tensors;
using ILGPU;
using ILGPU.Runtime;

namespace GpuCnn.Training;

/// <summary>
/// Augmentation done on the device while gathering a batch: a random shift of up to MaxShift
/// pixels with zero fill (a random crop of the picture padded by MaxShift), a horizontal flip
/// with probability ½, and random erasing with probability EraseProbability (Zhong et al.; see
/// DataKernels.Erase for the draw).
/// </summary>
public sealed record Augmentation(int MaxShift = 0, bool Flip = false, double EraseProbability = 0)
{
    public static readonly Augmentation None = new();

    /// <summary>Every image mirrored, nothing drawn: test-time augmentation's second view.</summary>
    public static readonly Augmentation Mirror = new() { MirrorAll = true };

    public bool MirrorAll { get; init; }

    public bool Active => MaxShift > 0 || Flip || EraseProbability > 0;

    /// <summary>The erasing probability as the kernel takes it, in 1/65536ths.</summary>
    public int EraseChance => (int)Math.Round(EraseProbability * 65536);
}

/// <summary>
/// Feeds mini-batches of one subset of a device dataset: an order of image indices lives on the
/// device (uploaded once per epoch, shuffled or not) and each batch is gathered from it there.
/// In a data-parallel run each rank gathers only its share of every batch (a contiguous run of
/// its rows); augmentation is keyed by the position in the whole order, so the shares together
/// are exactly the batch one process would gather.
/// </summary>
public sealed class BatchFeeder : IDisposable
{
    readonly ComputeDevice device;
    readonly DeviceDataset data;
    readonly int[] subset;
    /// <summary>The epoch's order of image indices (count) and the gathered batch's labels (batch).</summary>
    readonly Tensor<int> order, labels;
    readonly Tensor input;
    readonly Distributed.DataParallel? parallel;

    public int Count => subset.Length;
    public int BatchSize { get; }
    public int Batches => (Count + BatchSize - 1) / BatchSize;
    public ArrayView<int> Labels => labels.View;

    /// <param name="subset">Indices into data of the images this feeder serves.</param>
    /// <param name="parallel">The data-parallel job whose share of each batch this rank takes (null: the whole batch).</param>
    public BatchFeeder(ComputeDevice device, DeviceDataset data, int[] subset, int batchSize, Distributed.DataParallel? parallel = null)
    {
        this.parallel = parallel;
        this.device = device;
        this.data = data;
        this.subset = subset;
        BatchSize = batchSize;
        order = Tensor<int>.Zeros(device, Math.Max(1, subset.Length));
        order.View.SubView(0, subset.Length).CopyFromCPU(subset);
        labels = Tensor<int>.Zeros(device, batchSize);
        input = Tensor.Zeros(device, batchSize, data.Height, data.Width, data.Channels);
    }

    /// <summary>Shuffles the order for an epoch; the permutation depends only on the seed.</summary>
    public void Shuffle(int seed)
    {
        var shuffled = (int[])subset.Clone();
        new SeededRandom(seed).Shuffle(shuffled);
        order.View.SubView(0, shuffled.Length).CopyFromCPU(shuffled);
    }

    /// <summary>Rows of batch number <paramref name="batch"/>, all ranks' shares together.</summary>
    public int RowsOf(int batch) => Math.Min(BatchSize, Count - batch * BatchSize);

    /// <summary>This rank's rows of the batch: [Start, Start + Count) (the whole batch in a single process).</summary>
    public (int Start, int Count) ShareOf(int batch) => parallel?.Share(RowsOf(batch)) ?? (0, RowsOf(batch));

    /// <summary>Gathers this rank's share of batch number <paramref name="batch"/> into the input tensor and the label buffer.</summary>
    public Tensor Gather(int batch, Augmentation augmentation, uint seed)
    {
        var (start, rows) = ShareOf(batch);
        var args = new GatherArgs
        {
            Height = data.Height, Width = data.Width, Channels = data.Channels, OrderOffset = batch * BatchSize + start,
            MaxShift = augmentation.MaxShift, Flip = augmentation.Flip ? 1 : 0, MirrorAll = augmentation.MirrorAll ? 1 : 0,
            EraseChance = augmentation.EraseChance, Seed = seed,
        };
        var x = input.FirstRows(rows);
        device.Kernels.GatherBatch(data.Pixels.View, data.Labels.View, order.View, x.View, labels.View, rows, args);
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
