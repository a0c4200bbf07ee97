using GpuCnn.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuCnn.Devices;

/// <summary>Launchers of DataKernels: the on-device batch gather.</summary>
public sealed partial class KernelLauncher
{
    Action<Index1D, ArrayView<byte>, ArrayView<byte>, ArrayView<int>, ArrayView<float>, ArrayView<int>, GatherArgs, WorkSplit>? gatherBatch;

    public void GatherBatch(ArrayView<byte> images, ArrayView<byte> labels, ArrayView<int> order,
        ArrayView<float> batch, ArrayView<int> batchLabels, int count, GatherArgs args)
    {
        var split = Plan.Split(count);
        if (Launching(nameof(DataKernels.GatherBatch), split.Threads, (long)split.Chunk * args.Height * args.Width * args.Channels))
            Load(ref gatherBatch, DataKernels.GatherBatch)(split.Threads, images, labels, order, batch, batchLabels, args, split);
    }
}
