using System.Runtime.Intrinsics;
using GpuCnn.Bench;
using GpuCnn.Layers;
using GpuCnn.Models;
using GpuCnn.Tensors;

namespace GpuCnn.Tests.Bench;

/// <summary>The bench's FMA peak and the FLOP per image its training-step line divides by.</summary>
[Collection("devices")]
public sealed class BenchCeilingTests(TestDevices devices)
{
    [Fact]
    public void FmaPeakIsMeasuredAtTheWidthTheJitAccelerates()
    {
        var (gflops, width) = FmaCeiling.Measure(0.05);
        Assert.True(gflops > 0, $"{gflops} GFLOP/s");
        Assert.StartsWith(Vector512.IsHardwareAccelerated ? "Vector512" : "Vector256", width);
        Assert.Contains($"{Environment.ProcessorCount} thread", width);
        var (narrow, narrowWidth) = FmaCeiling.Measure(0.05, widest: false);
        Assert.True(narrow > 0, $"{narrow} GFLOP/s");
        Assert.StartsWith("Vector256", narrowWidth);
    }

    /// <summary>Per image: 2·(output pixels)·(filters)·(kernel area · input channels) per GEMM pass; three passes, two for the first layer (no input gradient).</summary>
    [Theory]
    [InlineData("seed")]
    [InlineData("resnet20")]
    public void StepFlopsCountEveryGemmPassOfTheModel(string name)
    {
        static double Conv(int side, int filters, int k, int inChannels) => 2.0 * side * side * filters * k * k * inChannels;
        double expected;
        if (name == "seed")
            expected = 2 * Conv(26, 32, 3, 1) + 3 * (Conv(11, 64, 3, 32) + 2.0 * 1600 * 128 + 2.0 * 128 * 10);
        else
        {
            expected = 2 * Conv(28, 16, 3, 1);
            int channels = 16, side = 28;
            foreach (int filters in new[] { 16, 32, 64 })
                for (int block = 0; block < 3; block++)
                {
                    if (filters != channels) side /= 2;
                    expected += 3 * (Conv(side, filters, 3, channels) + Conv(side, filters, 3, filters));
                    if (filters != channels) expected += 3 * Conv(side, filters, 1, channels);
                    channels = filters;
                }
            expected += 3 * 2.0 * 64 * 10;
        }

        const int batch = 2;
        using var model = ModelZoo.Create(name).Build(devices.Cpu, batch, 1);
        using var input = Tensor.Zeros(devices.Cpu, [batch, .. model.InputShape]);
        model.Forward(input, new PassContext(true, 1));
        Assert.Equal(expected, TrainingThroughput.StepGemmFlops(model.Layers) / batch);
    }
}
