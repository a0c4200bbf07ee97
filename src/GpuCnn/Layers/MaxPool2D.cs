using GpuCnn.Kernels;
using GpuCnn.Tensors;

namespace GpuCnn.Layers;

/// <summary>Max pooling with a square window whose stride is its size (Keras's default), valid padding.</summary>
public sealed class MaxPool2D(int size = 2) : Layer
{
    Tensor output = null!;
    Tensor? inputGrad;
    Tensor<int> argmax = null!;
    PoolGeometry geometry;
    int batch;

    public override string Kind => "MaxPooling2D";
    public int Size => size;

    /// <summary>
    /// Set by Sequential.Build when the layer before ends in a ReLU: this layer takes
    /// over that ReLU's backward pass (a window whose maximum is not positive passes no gradient),
    /// so the ReLU's mask costs no memory pass of its own: the mask of the winning element is its
    /// window's output, which this layer keeps.
    /// </summary>
    public bool TakesReluBackward { get; internal set; }

    /// <summary>
    /// Set by <see cref="LayerFusion"/> where the layer before is a convolution that
    /// Conv2dForwardMaxPool takes: a model's forward pass then runs both in one pass
    /// (<see cref="ForwardMaxPool"/>) and the convolution's output is never written; where the
    /// convolution is the lowest trained layer, the backward pass too (<see cref="BackwardWeightsMaxPool"/>).
    /// Each layer's own Forward and Backward still run it alone.
    /// </summary>
    public Conv2D? PoolsConvolution { get; internal set; }

    protected override IEnumerable<(string, System.Text.Json.Nodes.JsonNode?)> Options() => [("size", size)];
    public override string Details => $"{size}x{size}";

    protected override void CheckOptions() => LayerLimits.PoolSize.Check(Owner, size);

    /// <summary>Output (H/size, W/size, C), rounded down. Output, argmax (ints, as wide as floats) and input gradient.</summary>
    protected override int[] PlanFor(int[] inputShape, LayerPlan plan)
    {
        if (inputShape.Length != 3 || inputShape[0] < size || inputShape[1] < size)
            throw Refused($"MaxPooling2D({size}) needs (height, width, channels) input of at least {size}x{size}, got {ShapeText(inputShape)}");
        int[] output = [inputShape[0] / size, inputShape[1] / size, inputShape[2]];
        plan.BatchBuffer("output", output);
        plan.BatchBuffer("argmax", output);
        plan.BatchBuffer("input gradient", inputShape);
        return output;
    }

    protected override int[] Configure(int[] inputShape)
    {
        geometry = new PoolGeometry(MaxBatch, inputShape[0], inputShape[1], inputShape[2], size);
        return [geometry.OutHeight, geometry.OutWidth, inputShape[2]];
    }

    public override void Allocate()
    {
        output = BatchTensor(OutputShape);
        // The winning tap of each output element, [maxBatch, ..output shape].
        argmax = Own(Tensor<int>.Zeros(Device, [MaxBatch, .. OutputShape]));
        if (NeedsInputGradient) inputGrad = BatchTensor(InputShape);
    }

    /// <summary>The pooling for the largest batch (set when the layer is built).</summary>
    internal PoolGeometry Geometry => geometry;

    PoolGeometry GeometryFor(int rows) => new(rows, geometry.InHeight, geometry.InWidth, geometry.Channels, size, TakesReluBackward);

    public override Tensor Forward(Tensor input, PassContext pass)
    {
        batch = input.Shape[0];
        var result = output.FirstRows(batch);
        Kernels.MaxPool2DForward(input.View, result.View, argmax.FirstRows(batch).View, GeometryFor(batch));
        return result;
    }

    /// <summary><see cref="PoolsConvolution"/> and this pooling in one pass (Conv2dForwardMaxPool), from the convolution's input.</summary>
    public Tensor ForwardMaxPool(Tensor convolutionInput)
    {
        var convolution = PoolsConvolution ?? throw new InvalidOperationException($"{Name} pools no convolution in its forward pass.");
        batch = convolutionInput.Shape[0];
        var result = output.FirstRows(batch);
        convolution.ForwardMaxPool(convolutionInput, result, argmax.FirstRows(batch), GeometryFor(batch));
        return result;
    }

    /// <summary>
    /// This pooling's backward pass and <see cref="PoolsConvolution"/>'s weight gradient in one
    /// (Conv2D.BackwardWeightsMaxPool), where the convolution is the lowest trained layer: its dZ,
    /// this layer's input gradient, is never written.
    /// </summary>
    public void BackwardWeightsMaxPool(Tensor outputGrad)
    {
        var convolution = PoolsConvolution ?? throw new InvalidOperationException($"{Name} pools no convolution in its forward pass.");
        convolution.BackwardWeightsMaxPool(outputGrad, output.FirstRows(batch), argmax.FirstRows(batch), GeometryFor(batch));
    }

    public override Tensor? Backward(Tensor outputGrad)
    {
        if (inputGrad is null) return null;
        var result = inputGrad.FirstRows(batch);
        Kernels.MaxPool2DBackward(outputGrad.View, argmax.FirstRows(batch).View, output.FirstRows(batch).View, result.View, GeometryFor(batch));
        return result;
    }
}
