using GpuCnn.Tensors;

namespace GpuCnn.Layers;

/// <summary>ReLU as its own layer, for where it cannot be fused into a GEMM (after batch normalization).</summary>
public sealed class ReLU : Layer
{
    Tensor output = null!;
    Tensor? inputGrad;

    public override string Kind => "ReLU";
    public override bool EndsWithRelu => true;

    /// <summary>Set when the batch normalization before it applies it (<see cref="LayerFusion"/>): input and gradient pass through.</summary>
    public bool Absorbed { get; internal set; }

    /// <summary>Output as input; output and input gradient.</summary>
    protected override int[] PlanFor(int[] inputShape, LayerPlan plan)
    {
        plan.BatchBuffer("output", inputShape);
        plan.BatchBuffer("input gradient", inputShape);
        return inputShape;
    }

    protected override int[] Configure(int[] inputShape) => inputShape;

    public override void Allocate()
    {
        if (Absorbed) return;
        output = BatchTensor(OutputShape);
        if (NeedsInputGradient) inputGrad = BatchTensor(InputShape);
    }

    public override Tensor Forward(Tensor input, PassContext pass)
    {
        if (Absorbed) return input;
        var result = output.FirstRows(input.Shape[0]);
        Kernels.ReluForward(input.View, result.View);
        return result;
    }

    public override Tensor? Backward(Tensor outputGrad)
    {
        if (Absorbed) return outputGrad;
        if (inputGrad is null) return null;
        if (ReluBackwardTakenOver) return outputGrad;
        int batch = outputGrad.Shape[0];
        var result = inputGrad.FirstRows(batch);
        Kernels.ReluBackward(output.FirstRows(batch).View, outputGrad.View, result.View);
        return result;
    }
}
