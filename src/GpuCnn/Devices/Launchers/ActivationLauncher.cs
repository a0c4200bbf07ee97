using GpuCnn.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuCnn.Devices;

/// <summary>Launchers of ActivationKernels: ReLU and the residual add.</summary>
public sealed partial class KernelLauncher
{
    Action<Index1D, ArrayView<float>, ArrayView<float>, int, WorkSplit>? reluForward;
    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, WorkSplit>? reluBackward;
    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, WorkSplit>? add;

    /// <summary>Items are groups of eight floats when the length allows, else single floats.</summary>
    static (int Items, int Vector) Lanes8(long length) => length % 8 == 0 ? ((int)(length / 8), 1) : ((int)length, 0);

    public void ReluForward(ArrayView<float> input, ArrayView<float> output)
    {
        var (items, vector) = Lanes8(input.Length);
        var split = Plan.Split(items);
        if (Launching(nameof(ActivationKernels.ReluForward), split.Threads, split.Chunk))
            Load(ref reluForward, ActivationKernels.ReluForward)(split.Threads, input, output, vector, split);
    }

    public void ReluBackward(ArrayView<float> output, ArrayView<float> outputGrad, ArrayView<float> inputGrad)
    {
        var (items, vector) = Lanes8(output.Length);
        var split = Plan.Split(items);
        if (Launching(nameof(ActivationKernels.ReluBackward), split.Threads, split.Chunk))
            Load(ref reluBackward, ActivationKernels.ReluBackward)(split.Threads, output, outputGrad, inputGrad, vector, split);
    }

    public void Add(ArrayView<float> a, ArrayView<float> b, ArrayView<float> sum)
    {
        var split = Plan.Split((int)a.Length);
        if (Launching(nameof(ActivationKernels.Add), split.Threads, split.Chunk))
            Load(ref add, ActivationKernels.Add)(split.Threads, a, b, sum, split);
    }
}
