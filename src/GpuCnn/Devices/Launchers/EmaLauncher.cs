using GpuCnn.Kernels;
using ILGPU;

namespace GpuCnn.Devices;

/// <summary>Launchers of EmaKernels: one launch per flat buffer.</summary>
public sealed partial class KernelLauncher
{
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, float> emaUpdate = new(EmaKernels.EmaUpdate, streams: true);
    readonly SplitKernel<ArrayView<float>, ArrayView<float>> emaSwap = new(EmaKernels.EmaSwap, streams: true);

    public void EmaUpdate(ArrayView<float> average, ArrayView<float> live, float decay)
    {
        Require(nameof(EmaUpdate), "live", live, (int)average.Length);
        emaUpdate.LaunchSplit(this, (int)average.Length, 1, average, live, decay);
    }

    public void EmaSwap(ArrayView<float> first, ArrayView<float> second)
    {
        Require(nameof(EmaSwap), "second", second, (int)first.Length);
        emaSwap.LaunchSplit(this, (int)first.Length, 1, first, second);
    }
}
