using GpuCnn.Kernels;
using GpuCnn.Tensors;

namespace GpuCnn.Layers;

/// <summary>
/// Batch normalization over the last axis (per channel after a convolution, per feature after a
/// dense layer), with Keras's parameters: γ, β (trained) and the moving mean and variance
/// (tracked, saved in checkpoints), momentum 0.99, ε 1e-3.
/// </summary>
public sealed class BatchNormalization(float momentum = 0.99f, float epsilon = 1e-3f) : Layer
{
    Parameter gamma = null!, beta = null!, movingMean = null!, movingVariance = null!;
    Tensor output = null!, statistics = null!;
    Tensor? inputGrad, input;
    int channels;

    public float Epsilon => epsilon;

    /// <summary>Set when the ReLU layer after it runs inside its passes (<see cref="LayerFusion"/>).</summary>
    public bool TakesRelu { get; internal set; }

    public override bool EndsWithRelu => TakesRelu;

    /// <summary>
    /// Set on a residual block's last batch norm: the block's add and ReLU run inside this layer's
    /// forward pass (<see cref="ForwardAdding"/>), which writes the block's output, so the layer
    /// keeps no output of its own (a pass over memory and a launch fewer).
    /// </summary>
    internal bool AddsResidual { get; init; }

    protected override IEnumerable<(string, System.Text.Json.Nodes.JsonNode?)> Options() => [("momentum", momentum), ("epsilon", epsilon)];
    public override string Kind => "BatchNormalization";

    protected override void CheckOptions()
    {
        LayerLimits.Momentum.Check(Owner, momentum);
        LayerLimits.Epsilon.Check(Owner, epsilon);
    }

    /// <summary>Output as input. γ, β, moving mean and variance (C each); output, input gradient, statistics (2C); split partial sums over B·H·W rows (2 × chunks × C).</summary>
    protected override int[] PlanFor(int[] inputShape, LayerPlan plan)
    {
        int c = inputShape[^1];
        if (c % 8 != 0)
            throw Refused($"BatchNormalization needs a multiple of 8 channels (it works on groups of 8), got {c}");
        plan.Parameter("gamma", c);
        plan.Parameter("beta", c);
        plan.Tracked("moving_mean", c);
        plan.Tracked("moving_variance", c);
        if (!AddsResidual) plan.BatchBuffer("output", inputShape);
        plan.BatchBuffer("input gradient", inputShape);
        plan.Buffer("statistics", 2, c);
        long rows = LayerPlan.Product([plan.MaxBatch, .. inputShape[..^1].Select(d => (long)d)]);
        plan.ColumnReduction(rows, c, 2);
        return inputShape;
    }

    protected override int[] Configure(int[] inputShape)
    {
        channels = inputShape[^1];
        gamma = AddWeight("gamma", [channels], Initializer.Ones, channels, channels);
        beta = AddWeight("beta", [channels], Initializer.Zeros, channels, channels);
        movingMean = AddWeight("moving_mean", [channels], Initializer.Zeros, channels, channels, trainable: false);
        movingVariance = AddWeight("moving_variance", [channels], Initializer.Ones, channels, channels, trainable: false);
        return inputShape;
    }

    public override void Allocate()
    {
        if (!AddsResidual) output = BatchTensor(OutputShape);
        statistics = Own(Tensor.Zeros(Device, 2 * channels));
        if (NeedsInputGradient) inputGrad = BatchTensor(InputShape);
    }

    BatchNormShape ShapeFor(Tensor x, float movingMomentum, bool relu) => new()
    {
        Rows = x.Length / channels, Channels = channels, Momentum = movingMomentum, Epsilon = epsilon, Relu = relu ? 1 : 0,
    };

    public override Tensor Forward(Tensor x, PassContext pass)
    {
        if (AddsResidual) throw new InvalidOperationException($"{Name}: its residual block runs it through ForwardAdding.");
        return Normalize(x, pass, output.FirstRows(x.Shape[0]), null, TakesRelu);
    }

    /// <summary>result = max(0, BN(x) + residual): the forward pass with a residual block's add and ReLU in it.</summary>
    internal Tensor ForwardAdding(Tensor x, Tensor residual, Tensor result, PassContext pass) => Normalize(x, pass, result, residual, relu: true);

    Tensor Normalize(Tensor x, PassContext pass, Tensor result, Tensor? residual, bool relu)
    {
        input = x;
        // A recalibration pass replaces Keras's momentum: moving = (1-w)·moving + w·batch.
        var shape = ShapeFor(x, pass.Training ? momentum : 1f - pass.RecalibrationWeight, relu);
        if (pass.UsesBatchStatistics)
            Kernels.BatchNormStatistics(x.View, statistics.View, movingMean.Value.View, movingVariance.Value.View, shape);
        else
            Kernels.BatchNormMovingStatistics(statistics.View, movingMean.Value.View, movingVariance.Value.View, shape);
        Kernels.BatchNormForward(x.View, result.View, gamma.Value.View, beta.Value.View, statistics.View, shape, residual?.View);
        return result;
    }

    public override Tensor? Backward(Tensor outputGrad)
    {
        var x = input ?? throw new InvalidOperationException($"{Name}: Backward before Forward.");
        var result = inputGrad?.FirstRows(x.Shape[0]);
        // The ReLU's mask, unless the pooling after it applies it.
        Kernels.BatchNormBackward(x.View, outputGrad.View, result?.View ?? default, gamma.Value.View, beta.Value.View,
            statistics.View, gamma.Gradient.View, beta.Gradient.View, ShapeFor(x, momentum, TakesRelu && !ReluBackwardTakenOver), result is not null);
        return result;
    }
}
