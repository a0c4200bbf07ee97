using GpuCnn.Tensors;

namespace GpuCnn.Tests.Tensors;

[Collection("devices")]
public sealed class TensorTests(TestDevices devices)
{
    [Fact]
    public void TypedTensorsKeepTheirShapeAndElementsThroughViews()
    {
        using var bytes = Tensor<byte>.Upload(devices.Cpu, [1, 2, 3, 4, 5, 6], [3, 2], "test bytes");
        var rows = bytes.FirstRows(2);
        Assert.Equal([2, 2], rows.Shape);
        Assert.Equal([1, 2, 3, 4], rows.ToArray());
        Assert.Equal([6], bytes.Reshape(6).Shape);

        using var ints = Tensor<int>.Zeros(devices.Cpu, 2, 3);
        ints.CopyFrom([-1, 0, 1, 2, 3, int.MaxValue]);
        Assert.Equal([-1, 0, 1, 2, 3, int.MaxValue], ints.ToArray());

        using var doubles = Tensor<double>.Zeros(devices.Cpu, 3);
        Assert.Equal([0.0, 0.0, 0.0], doubles.ToArray());
    }

    [Fact]
    public void FloatTensorViewsAreFloatTensors()
    {
        using var x = Tensor.Zeros(devices.Cpu, 4, 2);
        Tensor rows = x.FirstRows(3);
        Tensor flat = x.Reshape(8);
        Assert.Equal(6, rows.Length);
        Assert.Equal(8, flat.Length);
    }

    [Fact]
    public void AnUploadThatDoesNotFitItsShapeIsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor<byte>.Upload(devices.Cpu, [1, 2, 3], [2, 2], "test bytes"));
        Messages.Says(e.Message, "does not hold 3 elements");
    }
}
