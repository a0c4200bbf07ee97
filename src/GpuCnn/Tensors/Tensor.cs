using GpuCnn.Devices;
using ILGPU;
using ILGPU.Runtime;

namespace GpuCnn.Tensors;

/// <summary>
/// A device buffer of <typeparamref name="T"/> with a shape (NHWC for images; the first dimension
/// is the batch). <see cref="Tensor"/> is the float one that layers pass along; the other element
/// types hold what is not a float: max-pooling indices and labels (int), a data set's pixels and
/// labels (byte), metric totals (double). A tensor either owns its buffer or is a view into
/// another's (reshape, batch slice, a slot of a flat parameter buffer); disposing a view frees
/// nothing.
/// </summary>
public class Tensor<T> : IDisposable where T : unmanaged
{
    readonly MemoryBuffer1D<T, Stride1D.Dense>? owner;

    public ArrayView<T> View { get; }
    public int[] Shape { get; }
    public int Length => (int)View.Length;

    private protected Tensor(ArrayView<T> view, int[] shape, MemoryBuffer1D<T, Stride1D.Dense>? owner)
    {
        long expected = shape.Aggregate(1L, (a, b) => a * b);
        if (expected != view.Length)
            throw new ArgumentException($"Shape [{string.Join(", ", shape)}] does not hold {view.Length} elements.");
        View = view;
        Shape = shape;
        this.owner = owner;
    }

    /// <summary>A new zero-filled tensor on the device.</summary>
    public static Tensor<T> Zeros(ComputeDevice device, params int[] shape)
    {
        var buffer = AllocateZeros(device, shape);
        return new Tensor<T>(buffer.View, shape, buffer);
    }

    /// <summary>A new tensor holding <paramref name="values"/> (copied to the device once); <paramref name="what"/> names it if the device runs out of memory.</summary>
    public static Tensor<T> Upload(ComputeDevice device, T[] values, int[] shape, string what)
    {
        var buffer = AllocateFor(device, values, shape, what);
        return new Tensor<T>(buffer.View, shape, buffer);
    }

    private protected static MemoryBuffer1D<T, Stride1D.Dense> AllocateFor(ComputeDevice device, T[] values, int[] shape, string what)
    {
        if (shape.Aggregate(1L, (a, b) => a * b) != values.LongLength)
            throw new ArgumentException($"Shape [{string.Join(", ", shape)}] does not hold {values.LongLength} elements.");
        var buffer = DeviceMemory.Allocate<T>(device, values.LongLength, what);
        buffer.View.CopyFromCPU(values);
        return buffer;
    }

    /// <summary>A tensor over existing device memory (no copy, no ownership).</summary>
    public static Tensor<T> Over(ArrayView<T> view, params int[] shape) => new(view, shape, null);

    private protected static MemoryBuffer1D<T, Stride1D.Dense> AllocateZeros(ComputeDevice device, int[] shape)
    {
        long length = shape.Aggregate(1L, (a, b) => a * b);
        var buffer = DeviceMemory.Allocate<T>(device, length, "tensor [" + string.Join(", ", shape) + "]");
        buffer.MemSetToZero();
        return buffer;
    }

    /// <summary>The same elements under another shape.</summary>
    public Tensor<T> Reshape(params int[] shape) => new(View, shape, null);

    /// <summary>The first <paramref name="rows"/> entries of the first dimension: a partial batch.</summary>
    public Tensor<T> FirstRows(int rows) => rows == Shape[0] ? this : new(RowsView(rows), RowsShape(rows), null);

    private protected ArrayView<T> RowsView(int rows) => View.SubView(0, (long)rows * (Length / Shape[0]));

    private protected int[] RowsShape(int rows)
    {
        var shape = (int[])Shape.Clone();
        shape[0] = rows;
        return shape;
    }

    public T[] ToArray()
    {
        var values = new T[Length];
        View.CopyToCPU(values);
        return values;
    }

    public void CopyFrom(ReadOnlySpan<T> values)
    {
        if (values.Length != Length)
            throw new ArgumentException($"Expected {Length} values, got {values.Length}.");
        View.CopyFromCPU(values.ToArray());
    }

    public string ShapeText => "(" + string.Join(", ", Shape) + ")";

    public void Dispose()
    {
        owner?.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// A tensor of floats: activations, parameters, gradients. Its reshapes and batch slices are
/// float tensors again.
/// </summary>
public sealed class Tensor : Tensor<float>
{
    Tensor(ArrayView<float> view, int[] shape, MemoryBuffer1D<float, Stride1D.Dense>? owner) : base(view, shape, owner) { }

    /// <summary>A new zero-filled tensor on the device.</summary>
    public static new Tensor Zeros(ComputeDevice device, params int[] shape)
    {
        var buffer = AllocateZeros(device, shape);
        return new Tensor(buffer.View, shape, buffer);
    }

    /// <summary>A new tensor holding <paramref name="values"/> (copied to the device once); <paramref name="what"/> names it if the device runs out of memory.</summary>
    public static new Tensor Upload(ComputeDevice device, float[] values, int[] shape, string what)
    {
        var buffer = AllocateFor(device, values, shape, what);
        return new Tensor(buffer.View, shape, buffer);
    }

    /// <summary>A tensor over existing device memory (no copy, no ownership).</summary>
    public static new Tensor Over(ArrayView<float> view, params int[] shape) => new(view, shape, null);

    /// <summary>The same elements under another shape.</summary>
    public new Tensor Reshape(params int[] shape) => new(View, shape, null);

    /// <summary>The first <paramref name="rows"/> entries of the first dimension: a partial batch.</summary>
    public new Tensor FirstRows(int rows) => rows == Shape[0] ? this : new(RowsView(rows), RowsShape(rows), null);
}
