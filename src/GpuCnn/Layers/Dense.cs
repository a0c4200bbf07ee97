using System.Text.Json.Nodes;
using GpuCnn.Kernels;
using GpuCnn.Tensors;

namespace GpuCnn.Layers;

/// <summary>y = activation(x·W + b) with W of shape (inputs, units), Keras's layout.</summary>
public sealed class Dense(int units, Activation activation = Activation.None) : Layer, IGemmLayer
{
    Parameter kernel = null!, bias = null!;
    Tensor output = null!, kernelTransposed = null!;
    Tensor? inputGrad, input;
    readonly FusedActivation fused = new(activation);
    int inputs;

    public int Units => units;
    public Activation ActivationKind => activation;
    public override bool EndsWithRelu => fused.Relu;

    protected override IEnumerable<(string, JsonNode?)> Options() => [("units", units), ("activation", LayerConfig.Name(activation))];
    public override string Kind => "Dense";
    public override string Details => activation == Activation.Relu ? "relu" : "";

    protected override void CheckOptions()
    {
        LayerLimits.Units.Check(Owner, units);
        if (!Enum.IsDefined(activation)) throw Refused($"activation must be relu or none, got {activation}");
    }

    /// <summary>Output (units). Kernel inputs×units and bias; output, dZ of a fused ReLU, input gradient, Wᵀ; split-K partials of the three GEMMs.</summary>
    protected override int[] PlanFor(int[] inputShape, LayerPlan plan)
    {
        if (inputShape.Length != 1)
            throw Refused($"Dense needs flat input, got {ShapeText(inputShape)}; add a Flatten layer before it");
        long batch = plan.MaxBatch, n = inputShape[0];
        plan.Parameter("kernel", n, units);
        plan.Parameter("bias", units);
        plan.BatchBuffer("output", [units]);
        plan.Buffer("transposed kernel", units, n);
        if (activation != Activation.None) plan.BatchBuffer("activation gradient", [units]);
        plan.BatchBuffer("input gradient", inputShape);
        plan.Gemm(batch, units, n);
        plan.Gemm(n, units, batch);
        plan.Gemm(batch, n, units);
        plan.SplitReduction(batch, units);
        return [units];
    }

    protected override int[] Configure(int[] inputShape)
    {
        inputs = inputShape[0];
        kernel = AddWeight("kernel", [inputs, units], Initializer.GlorotUniform, inputs, units);
        bias = AddWeight("bias", [units], Initializer.Zeros, inputs, units);
        return [units];
    }

    public override void Allocate()
    {
        output = BatchTensor(OutputShape);
        kernelTransposed = Own(Tensor.Zeros(Device, units, inputs));
        fused.Allocate(() => BatchTensor(OutputShape));
        if (NeedsInputGradient) inputGrad = BatchTensor(InputShape);
    }

    public override Tensor Forward(Tensor x, PassContext pass)
    {
        input = x;
        int batch = x.Shape[0];
        var result = output.FirstRows(batch);
        Kernels.Gemm(x.View, kernel.Value.View, result.View, bias.Value.View,
            GemmArgs.RowMajor(batch, units, inputs).WithEpilogue(true, fused.Relu));
        return result;
    }

    public override Tensor? Backward(Tensor outputGrad)
    {
        var grad = ActivationGradient(outputGrad);
        BackwardWeights(grad);
        return inputGrad is null ? null : BackwardInput(grad);
    }

    int Batch => (input ?? throw new InvalidOperationException($"{Name}: Backward before Forward.")).Shape[0];

    /// <summary>dL/dZ before the fused activation: dY masked where the ReLU was off.</summary>
    public Tensor ActivationGradient(Tensor outputGrad) => fused.Gradient(Kernels, output, outputGrad, Batch, ReluBackwardTakenOver);

    /// <summary>dW = xᵀ · dZ and db = Σ rows of dZ.</summary>
    public void BackwardWeights(Tensor grad)
    {
        Kernels.Gemm(input!.View, grad.View, kernel.Gradient.View, null, GemmArgs.RowMajor(inputs, units, Batch, transposeA: true));
        Kernels.ColumnSum(grad.View, bias.Gradient.View, Batch, units);
    }

    /// <summary>dX = dZ · Wᵀ.</summary>
    public Tensor BackwardInput(Tensor grad)
    {
        var result = (inputGrad ?? throw new InvalidOperationException($"{Name} computes no input gradient.")).FirstRows(Batch);
        Kernels.Transpose(kernel.Value.View, kernelTransposed.View, inputs, units);
        Kernels.Gemm(grad.View, kernelTransposed.View, result.View, null, GemmArgs.RowMajor(Batch, inputs, units));
        return result;
    }

    public long GemmFlops => GemmArgs.RowMajor(Batch, units, inputs).Flops;
}
