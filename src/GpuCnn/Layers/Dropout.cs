using GpuCnn.Kernels;
using GpuCnn.Tensors;

namespace GpuCnn.Layers;

/// <summary>Inverted dropout while training, the identity at inference (Keras's semantics).</summary>
public sealed class Dropout(float rate) : Layer
{
    Tensor output = null!;
    Tensor? inputGrad;
    PassContext lastPass;
    uint layerSeed;

    public float Rate => rate;

    protected override IEnumerable<(string, System.Text.Json.Nodes.JsonNode?)> Options() => [("rate", rate)];
    public override string Kind => "Dropout";
    public override string Details => $"rate {rate}";

    protected override void CheckOptions() => LayerLimits.DropoutRate.Check(Owner, rate);

    /// <summary>Output as input; output and input gradient.</summary>
    protected override int[] PlanFor(int[] inputShape, LayerPlan plan)
    {
        plan.BatchBuffer("output", inputShape);
        plan.BatchBuffer("input gradient", inputShape);
        return inputShape;
    }

    protected override int[] Configure(int[] inputShape)
    {
        // Each dropout layer draws from its own stream, derived from its name.
        layerSeed = (uint)Name.Aggregate(17, (h, c) => h * 31 + c);
        return inputShape;
    }

    public override void Allocate()
    {
        output = BatchTensor(OutputShape);
        if (NeedsInputGradient) inputGrad = BatchTensor(InputShape);
    }

    uint StepSeed => CounterRng.Hash(lastPass.Seed, layerSeed);

    /// <summary>The mask's counter offset: the element number of this slice's first element in the whole mini-batch.</summary>
    int MaskOffset(Tensor x) => lastPass.RowOffset * (x.Length / x.Shape[0]);

    public override Tensor Forward(Tensor input, PassContext pass)
    {
        lastPass = pass;
        if (!pass.Training || rate == 0f) return input;
        var result = output.FirstRows(input.Shape[0]).Reshape(input.Shape);
        Kernels.DropoutForward(input.View, result.View, rate, StepSeed, MaskOffset(input));
        return result;
    }

    public override Tensor? Backward(Tensor outputGrad)
    {
        if (inputGrad is null) return null;
        if (rate == 0f) return outputGrad;
        var result = inputGrad.FirstRows(outputGrad.Shape[0]).Reshape(outputGrad.Shape);
        Kernels.DropoutBackward(outputGrad.View, result.View, rate, StepSeed, MaskOffset(outputGrad));
        return result;
    }
}
