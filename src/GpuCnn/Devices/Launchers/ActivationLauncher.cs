using GpuCnn.Kernels;
using ILGPU;

namespace GpuCnn.Devices;

/// <summary>Launchers of ActivationKernels: ReLU and the residual add.</summary>
public sealed partial class KernelLauncher
{
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, int> reluForward = new(ActivationKernels.ReluForward, streams: true);
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int> reluBackward = new(ActivationKernels.ReluBackward, streams: true);
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> addReluBackward =
        new(ActivationKernels.AddReluBackward, streams: true);
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> add = new(ActivationKernels.Add, streams: true);
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>> average = new(ActivationKernels.Average);

    /// <summary>Items are groups of eight floats when the length allows, else single floats.</summary>
    static (int Items, int Vector) Lanes8(long length) => length % 8 == 0 ? ((int)(length / 8), 1) : ((int)length, 0);

    public void ReluForward(ArrayView<float> input, ArrayView<float> output)
    {
        Require(nameof(ReluForward), "output", output, (int)input.Length);
        var (items, vector) = Lanes8(input.Length);
        reluForward.LaunchSplit(this, items, 1, input, output, vector);
    }

    public void ReluBackward(ArrayView<float> output, ArrayView<float> outputGrad, ArrayView<float> inputGrad)
    {
        Require(nameof(ReluBackward), "outputGrad", outputGrad, (int)output.Length);
        Require(nameof(ReluBackward), "inputGrad", inputGrad, (int)output.Length);
        var (items, vector) = Lanes8(output.Length);
        reluBackward.LaunchSplit(this, items, 1, output, outputGrad, inputGrad, vector);
    }

    public void Average(ArrayView<float> a, ArrayView<float> b, ArrayView<float> mean)
    {
        Require(nameof(Average), "b", b, (int)a.Length);
        Require(nameof(Average), "mean", mean, (int)a.Length);
        average.LaunchSplit(this, (int)a.Length, 1, a, b, mean);
    }

    /// <summary>sum = a + b, then ReLU when <paramref name="relu"/>.</summary>
    public void Add(ArrayView<float> a, ArrayView<float> b, ArrayView<float> sum, bool relu = false)
    {
        Require(nameof(Add), "b", b, (int)a.Length);
        Require(nameof(Add), "sum", sum, (int)a.Length);
        var (items, vector) = Lanes8(a.Length);
        add.LaunchSplit(this, items, 1, a, b, sum, relu ? 1 : 0, vector);
    }

    /// <summary>inputGrad = (a + b) where output &gt; 0.</summary>
    public void AddReluBackward(ArrayView<float> a, ArrayView<float> b, ArrayView<float> output, ArrayView<float> inputGrad)
    {
        Require(nameof(AddReluBackward), "b", b, (int)a.Length);
        Require(nameof(AddReluBackward), "output", output, (int)a.Length);
        Require(nameof(AddReluBackward), "inputGrad", inputGrad, (int)a.Length);
        var (items, vector) = Lanes8(a.Length);
        addReluBackward.LaunchSplit(this, items, 1, a, b, output, inputGrad, vector);
    }
}
