using GpuCnn.Tensors;

namespace GpuCnn.Layers;

/// <summary>(H, W, C) to (H·W·C) in NHWC order, Keras's channels-last order: a view, no kernel.</summary>
public sealed class Flatten : Layer
{
    public override string Kind => "Flatten";

    /// <summary>Output (H·W·C), a view: nothing allocated.</summary>
    protected override int[] PlanFor(int[] inputShape, LayerPlan plan) =>
        ShapeOf(LayerPlan.Product([.. inputShape.Select(d => (long)d)]));

    protected override int[] Configure(int[] inputShape) => [Product(inputShape)];

    public override Tensor Forward(Tensor input, PassContext pass) => input.Reshape(input.Shape[0], OutputShape[0]);

    public override Tensor? Backward(Tensor outputGrad) =>
        NeedsInputGradient ? outputGrad.Reshape([outputGrad.Shape[0], .. InputShape]) : null;
}
