using GpuCnn.Kernels;
using GpuCnn.Tensors;

namespace GpuCnn.Tests.Devices;

/// <summary>A launcher refuses a buffer shorter than its shape needs, naming the kernel and the buffer, before anything runs.</summary>
[Collection("devices")]
public sealed class BufferCheckTests(TestDevices devices)
{
    [Fact]
    public void AShortInputIsRefusedWithItsShape()
    {
        using var input = Tensor.Zeros(devices.Cpu, 100);
        using var columns = Tensor.Zeros(devices.Cpu, 2 * 26 * 26, 9);
        var g = new ConvGeometry(2, 28, 28, 1, 3, 3, 1, 0);
        var e = Assert.Throws<ArgumentException>(() => devices.Cpu.Kernels.Im2Col(input.View, columns.View, g));
        Messages.Says(e.Message, "Im2Col: input holds 100 floats, shape 2x28x28x1 needs 1568.");
        Assert.Equal("input", e.ParamName);
    }

    [Fact]
    public void AShortGemmOperandIsRefusedWithItsStrides()
    {
        using var a = Tensor.Zeros(devices.Cpu, 8, 4);
        using var b = Tensor.Zeros(devices.Cpu, 4, 16);
        using var c = Tensor.Zeros(devices.Cpu, 8, 8);
        var e = Assert.Throws<ArgumentException>(() => devices.Cpu.Kernels.Gemm(a.View, b.View, c.View, null, GemmArgs.RowMajor(8, 16, 4)));
        Messages.Says(e.Message, "Gemm: c holds 64 floats, C 8x16 (strides 16, 1) needs 128.");
    }

    [Fact]
    public void AShortIndexBufferIsRefusedInItsOwnUnit()
    {
        var g = new PoolGeometry(2, 4, 4, 8, 2);
        using var input = Tensor.Zeros(devices.Cpu, 2, 4, 4, 8);
        using var output = Tensor.Zeros(devices.Cpu, 2, 2, 2, 8);
        using var argmax = Tensor<int>.Zeros(devices.Cpu, 2, 2, 8);
        var e = Assert.Throws<ArgumentException>(() => devices.Cpu.Kernels.MaxPool2DForward(input.View, output.View, argmax.View, g));
        Messages.Says(e.Message, "argmax holds 32 ints, shape 2x2x2x8 needs 64.");
    }
}
