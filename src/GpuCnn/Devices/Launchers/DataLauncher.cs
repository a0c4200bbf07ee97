using GpuCnn.Kernels;
using ILGPU;

namespace GpuCnn.Devices;

/// <summary>Launchers of DataKernels: the on-device batch gather.</summary>
public sealed partial class KernelLauncher
{
    readonly SplitKernel<ArrayView<byte>, ArrayView<byte>, ArrayView<int>, ArrayView<float>, ArrayView<int>, GatherArgs> gatherBatch = new(DataKernels.GatherBatch);

    public void GatherBatch(ArrayView<byte> images, ArrayView<byte> labels, ArrayView<int> order,
        ArrayView<float> batch, ArrayView<int> batchLabels, int count, GatherArgs args)
    {
        // The images and labels are indexed by the order's values, which stay on the device.
        Require(nameof(GatherBatch), "images", images, 1, args.Height, args.Width, args.Channels);
        Require(nameof(GatherBatch), "order", order, args.OrderOffset + count);
        Require(nameof(GatherBatch), "batch", batch, count, args.Height, args.Width, args.Channels);
        Require(nameof(GatherBatch), "batchLabels", batchLabels, count);
        gatherBatch.LaunchSplit(this, count, (long)args.Height * args.Width * args.Channels, images, labels, order, batch, batchLabels, args);
    }
}
