using GpuCnn.Tensors;

namespace GpuCnn.Layers;

/// <summary>(H, W, C) to (C): the mean of each channel over the image.</summary>
public sealed class GlobalAvgPool2D : Layer
{
    Tensor output = null!;
    Tensor? inputGrad;
    int pixels, channels;

    public override string Kind => "GlobalAveragePooling2D";

    /// <summary>Output (C); output and input gradient.</summary>
    protected override int[] PlanFor(int[] inputShape, LayerPlan plan)
    {
        RequireImage(inputShape);
        plan.BatchBuffer("output", [inputShape[2]]);
        plan.BatchBuffer("input gradient", inputShape);
        return [inputShape[2]];
    }

    protected override int[] Configure(int[] inputShape)
    {
        pixels = inputShape[0] * inputShape[1];
        channels = inputShape[2];
        return [channels];
    }

    public override void Allocate()
    {
        output = BatchTensor(OutputShape);
        if (NeedsInputGradient) inputGrad = BatchTensor(InputShape);
    }

    public override Tensor Forward(Tensor input, PassContext pass)
    {
        var result = output.FirstRows(input.Shape[0]);
        Kernels.GlobalAvgPoolForward(input.View, result.View, input.Shape[0], pixels, channels);
        return result;
    }

    public override Tensor? Backward(Tensor outputGrad)
    {
        if (inputGrad is null) return null;
        var result = inputGrad.FirstRows(outputGrad.Shape[0]);
        Kernels.GlobalAvgPoolBackward(outputGrad.View, result.View, outputGrad.Shape[0], pixels, channels);
        return result;
    }
}
