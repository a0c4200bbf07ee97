using GpuCnn.Kernels;
using GpuCnn.Tensors;

namespace GpuCnn.Layers;

/// <summary>Max pooling with a square window whose stride is its size (Keras's default), valid padding.</summary>
public sealed class MaxPool2D(int size = 2) : Layer
{
    Tensor output = null!;
    Tensor? inputGrad;
    ILGPU.Runtime.MemoryBuffer1D<int, ILGPU.Stride1D.Dense> argmaxBuffer = null!;
    PoolGeometry geometry;
    int batch;

    public override string Kind => "MaxPooling2D";
    public int Size => size;

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
        argmaxBuffer = DeviceMemory.Allocate<int>(Device, (long)MaxBatch * Product(OutputShape), $"{Name} argmax");
        if (NeedsInputGradient) inputGrad = BatchTensor(InputShape);
    }

    PoolGeometry GeometryFor(int rows) => new(rows, geometry.InHeight, geometry.InWidth, geometry.Channels, size);

    public override Tensor Forward(Tensor input, PassContext pass)
    {
        batch = input.Shape[0];
        var result = output.FirstRows(batch);
        Kernels.MaxPoolForward(input.View, result.View, argmaxBuffer.View, GeometryFor(batch));
        return result;
    }

    public override Tensor? Backward(Tensor outputGrad)
    {
        if (inputGrad is null) return null;
        var result = inputGrad.FirstRows(batch);
        Kernels.MaxPoolBackward(outputGrad.View, argmaxBuffer.View, result.View, GeometryFor(batch));
        return result;
    }

    public override void Dispose()
    {
        argmaxBuffer?.Dispose();
        base.Dispose();
    }
}
