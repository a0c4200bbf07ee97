using GpuCnn.Devices;
using ILGPU;
using ILGPU.Runtime;

namespace GpuCnn.Tensors;

/// <summary>
/// A device buffer of floats with a shape (NHWC for images; the first dimension is the batch).
/// A tensor either owns its buffer or is a view into another's (reshape, batch slice, a slot of a
/// flat parameter buffer); disposing a view frees nothing.
/// </summary>
public sealed class Tensor : IDisposable
{
    readonly MemoryBuffer1D<float, Stride1D.Dense>? owner;

    public ArrayView<float> View { get; }
    public int[] Shape { get; }
    public int Length => (int)View.Length;

    Tensor(ArrayView<float> view, int[] shape, MemoryBuffer1D<float, Stride1D.Dense>? owner)
    {
        long expected = shape.Aggregate(1L, (a, b) => a * b);
        if (expected != view.Length)
            throw new ArgumentException($"Shape [{string.Join(", ", shape)}] does not hold {view.Length} elements.");
        View = view;
        Shape = shape;
        this.owner = owner;
    }

    /// <summary>A new zero-filled tensor on the device.</summary>
    public static Tensor Zeros(ComputeDevice device, params int[] shape)
    {
        long length = shape.Aggregate(1L, (a, b) => a * b);
        var buffer = DeviceMemory.Allocate<float>(device, length, "tensor [" + string.Join(", ", shape) + "]");
        buffer.MemSetToZero();
        return new Tensor(buffer.View, shape, buffer);
    }

    /// <summary>A tensor over existing device memory (no copy, no ownership).</summary>
    public static Tensor Over(ArrayView<float> view, params int[] shape) => new(view, shape, null);

    /// <summary>The same elements under another shape.</summary>
    public Tensor Reshape(params int[] shape) => new(View, shape, null);

    /// <summary>The first <paramref name="rows"/> entries of the first dimension: a partial batch.</summary>
    public Tensor FirstRows(int rows)
    {
        if (rows == Shape[0]) return this;
        var shape = (int[])Shape.Clone();
        shape[0] = rows;
        return new Tensor(View.SubView(0, (long)rows * (Length / Shape[0])), shape, null);
    }

    public float[] ToArray()
    {
        var values = new float[Length];
        View.CopyToCPU(values);
        return values;
    }

    public void CopyFrom(ReadOnlySpan<float> values)
    {
        if (values.Length != Length)
            throw new ArgumentException($"Expected {Length} values, got {values.Length}.");
        View.CopyFromCPU(values.ToArray());
    }

    public string ShapeText => "(" + string.Join(", ", Shape) + ")";

    public void Dispose() => owner?.Dispose();
}
