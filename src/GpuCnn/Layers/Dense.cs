using GpuCnn.Kernels;
using GpuCnn.Tensors;

namespace GpuCnn.Layers;

/// <summary>y = activation(x·W + b) with W of shape (inputs, units), Keras's layout.</summary>
public sealed class Dense(int units, Activation activation = Activation.None) : Layer
{
    Parameter kernel = null!, bias = null!;
    Tensor output = null!, kernelTransposed = null!;
    Tensor? activationGrad, inputGrad, input;
    int inputs;

    public int Units => units;
    public override string Kind => "Dense";
    public override IReadOnlyList<Parameter> Parameters => [kernel, bias];
    public override string Details => activation == Activation.Relu ? "relu" : "";

    protected override int[] Configure(int[] inputShape)
    {
        if (inputShape.Length != 1)
            throw new ArgumentException($"{Name}: Dense needs flat input, got {ShapeText(inputShape)}; add a Flatten layer.");
        inputs = inputShape[0];
        kernel = new Parameter($"{Name}/kernel", [inputs, units], Initializer.GlorotUniform, inputs, units);
        bias = new Parameter($"{Name}/bias", [units], Initializer.Zeros, inputs, units);
        return [units];
    }

    public override void Allocate()
    {
        output = BatchTensor(OutputShape);
        kernelTransposed = Own(Tensor.Zeros(Device, units, inputs));
        if (activation != Activation.None) activationGrad = BatchTensor(OutputShape);
        if (NeedsInputGradient) inputGrad = BatchTensor(InputShape);
    }

    public override Tensor Forward(Tensor x, PassContext pass)
    {
        input = x;
        int batch = x.Shape[0];
        var result = output.FirstRows(batch);
        Kernels.Gemm(x.View, kernel.Value.View, result.View, bias.Value.View,
            GemmArgs.RowMajor(batch, units, inputs).WithEpilogue(true, activation == Activation.Relu));
        return result;
    }

    public override Tensor? Backward(Tensor outputGrad)
    {
        var x = input ?? throw new InvalidOperationException($"{Name}: Backward before Forward.");
        int batch = x.Shape[0];
        var grad = outputGrad.View;
        if (activationGrad is not null)
        {
            var masked = activationGrad.FirstRows(batch).View;
            Kernels.ReluBackward(output.FirstRows(batch).View, grad, masked);
            grad = masked;
        }
        // dW = xᵀ · dZ, db = Σ rows of dZ, dX = dZ · Wᵀ.
        Kernels.Gemm(x.View, grad, kernel.Gradient.View, null, GemmArgs.RowMajor(inputs, units, batch, transposeA: true));
        Kernels.ColumnSum(grad, bias.Gradient.View, batch, units);
        if (inputGrad is null) return null;
        Kernels.Transpose(kernel.Value.View, kernelTransposed.View, inputs, units);
        var result = inputGrad.FirstRows(batch);
        Kernels.Gemm(grad, kernelTransposed.View, result.View, null, GemmArgs.RowMajor(batch, inputs, units));
        return result;
    }
}
