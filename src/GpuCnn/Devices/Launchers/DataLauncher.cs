using GpuCnn.Kernels;
using ILGPU;

namespace GpuCnn.Devices;

/// <summary>Launchers of DataKernels: the on-device batch gather.</summary>
public sealed partial class KernelLauncher
{
    readonly SplitKernel<ArrayView<byte>, ArrayView<byte>, ArrayView<int>, ArrayView<float>, ArrayView<int>, GatherArgs> gatherBatch = new(DataKernels.GatherBatch);

    public void GatherBatch(ArrayView<byte> images, ArrayView<byte> labels, ArrayView<int> order,
        ArrayView<float> batch, ArrayView<int> batchLabels, int count, GatherArgs args) =>
        gatherBatch.LaunchSplit(this, count, (long)args.Height * args.Width * args.Channels, images, labels, order, batch, batchLabels, args);
}
