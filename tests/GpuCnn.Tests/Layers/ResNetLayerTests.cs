using GpuCnn.Devices;
using GpuCnn.Layers;
using GpuCnn.Models;
using GpuCnn.Tensors;

namespace GpuCnn.Tests.Layers;

/// <summary>The layers behind seed-bn and the ResNet: batch norm, ReLU, global average pooling and the residual block.</summary>
[Collection("devices")]
public sealed class ResNetLayerTests(TestDevices devices)
{
    const double Epsilon = 1e-3;

    [Theory]
    [InlineData("cpu", new[] { 5, 4, 8 }, 3)]
    [InlineData("gpu", new[] { 16 }, 6)]
    [InlineData("generic", new[] { 3, 3, 24 }, 2)]
    [InlineData(TestDevices.OpenCLGpu, new[] { 5, 4, 8 }, 3, Traits = [TestDevices.PlanTrait, TestDevices.OpenCLGpu])]
    [InlineData(TestDevices.Cuda, new[] { 5, 4, 8 }, 3, Traits = [TestDevices.PlanTrait, TestDevices.Cuda])]
    [InlineData(TestDevices.OpenCLCpu, new[] { 16 }, 6)]
    // 60 rows in chunks of 8, the last of 4: the chunks' statistics combined.
    [InlineData("gpu", new[] { 5, 4, 8 }, 3)]
    [InlineData(TestDevices.OpenCLCpu, new[] { 5, 4, 8 }, 3)]
    public void BatchNormTrainingMatchesReferenceAndFiniteDifferences(string plan, int[] shape, int batch)
    {
        int channels = shape[^1];
        LayerCheck.Run(devices[plan], new BatchNormalization(), shape, batch,
            (x, p) => Reference.BatchNorm(x, p[0], p[1], channels, Epsilon));
    }

    /// <summary>
    /// Batch norm takes in the ReLU after it (LayerFusion): max(0, ·) in its forward pass and the
    /// mask in its backward passes, the ReLU layer passing through; with a pooling after the ReLU
    /// (seed-bn's order), the pooling applies the mask instead.
    /// </summary>
    [Theory]
    [MemberData(nameof(TestDevices.Plans), MemberType = typeof(TestDevices))]
    public void BatchNormTakesInTheReluAfterIt(string plan)
    {
        const int Batch = 3;
        var norm = new BatchNormalization();
        var relu = new ReLU();
        LayerCheck.Run(devices[plan], [norm, relu], [5, 4, 8], Batch,
            (x, p) => Reference.BatchNorm(x, p[0], p[1], 8, Epsilon).Select(v => Math.Max(0, v)).ToArray(), samplesPerTensor: int.MaxValue);
        Assert.True(norm.TakesRelu && relu.Absorbed && !norm.ReluBackwardTakenOver);

        var pooledNorm = new BatchNormalization();
        var pooledRelu = new ReLU();
        var pool = new MaxPool2D(2);
        LayerCheck.Run(devices[plan], [pooledNorm, pooledRelu, pool], [4, 6, 8], Batch,
            (x, p) => Reference.MaxPool2D(Reference.BatchNorm(x, p[0], p[1], 8, Epsilon).Select(v => Math.Max(0, v)).ToArray(), Batch, 4, 6, 8, 2),
            samplesPerTensor: int.MaxValue);
        Assert.True(pooledNorm.TakesRelu && pooledRelu.Absorbed && pool.TakesReluBackward && pooledNorm.ReluBackwardTakenOver);
    }

    [Fact]
    public void BatchNormUpdatesMovingAveragesAndUsesThemAtInference()
    {
        var device = devices.Cpu;
        const int Rows = 12, Channels = 8;
        var layer = new BatchNormalization();
        using var model = new Sequential("bn", [Channels], [layer]).Build(device, Rows, 1);
        var x = TestData.Uniform(Rows * Channels, 3, -2, 5);
        using var input = Tensor.Zeros(device, Rows, Channels);
        input.CopyFrom(x);
        layer.Forward(input, new PassContext(true, 0));
        var movingMean = layer.Parameters.Single(p => p.Name.EndsWith("moving_mean")).Value.ToArray();
        var movingVariance = layer.Parameters.Single(p => p.Name.EndsWith("moving_variance")).Value.ToArray();
        var expectedMean = new double[Channels];
        var expectedVariance = new double[Channels];
        for (int c = 0; c < Channels; c++)
        {
            double mean = Enumerable.Range(0, Rows).Average(r => (double)x[r * Channels + c]);
            double variance = Enumerable.Range(0, Rows).Average(r => Math.Pow(x[r * Channels + c] - mean, 2));
            expectedMean[c] = 0.99 * 0 + 0.01 * mean;
            expectedVariance[c] = 0.99 * 1 + 0.01 * variance;
        }
        TestData.AssertClose(movingMean, expectedMean, 1e-5);
        TestData.AssertClose(movingVariance, expectedVariance, 1e-5);

        var inference = layer.Forward(input, PassContext.Inference).ToArray();
        var expected = x.Select((v, i) => (v - expectedMean[i % Channels]) / Math.Sqrt(expectedVariance[i % Channels] + Epsilon)).ToArray();
        TestData.AssertClose(inference, expected, 1e-4);
    }

    [Fact]
    public void BatchNormRefusesChannelsItCannotGroup()
    {
        var e = Assert.Throws<ArgumentException>(() => new Sequential("bn", [10], [new BatchNormalization()]).Build(devices.Cpu, 2, 1));
        Messages.Says(e.Message, "needs a multiple of 8 channels");
    }

    [Fact]
    public void ReluMatchesReferenceAndFiniteDifferences() =>
        LayerCheck.Run(devices.Cpu, new ReLU(), [3, 3, 8], 2, (x, _) => x.Select(v => Math.Max(0, v)).ToArray());

    [Theory]
    [InlineData("cpu")]
    [InlineData("gpu")]
    [InlineData(TestDevices.OpenCLGpu, Traits = [TestDevices.PlanTrait, TestDevices.OpenCLGpu])]
    [InlineData(TestDevices.Cuda, Traits = [TestDevices.PlanTrait, TestDevices.Cuda])]
    public void GlobalAveragePoolingMatchesReferenceAndFiniteDifferences(string plan) =>
        LayerCheck.Run(devices[plan], new GlobalAvgPool2D(), [3, 5, 8], 2, (x, _) => Reference.GlobalAvgPool(x, 2, 15, 8));

    [Theory]
    [InlineData("cpu", 8, 8, 1)]
    [InlineData("cpu", 8, 16, 2)]
    [InlineData("generic", 8, 16, 1)]
    [InlineData("gpu", 8, 16, 2)]
    [InlineData(TestDevices.OpenCLGpu, 8, 16, 2, Traits = [TestDevices.PlanTrait, TestDevices.OpenCLGpu])]
    [InlineData(TestDevices.Cuda, 8, 16, 2, Traits = [TestDevices.PlanTrait, TestDevices.Cuda])]
    [InlineData(TestDevices.OpenCLCpu, 8, 8, 1)]
    public void ResidualBlockMatchesReferenceAndFiniteDifferences(string plan, int inChannels, int filters, int stride)
    {
        const int Batch = 2, Side = 6;
        bool projection = stride != 1 || inChannels != filters;
        var block = new ResidualBlock(filters, stride);
        LayerCheck.Run(devices[plan], block, [Side, Side, inChannels], Batch,
            (x, p) => ReferenceBlock(x, p, 0, Batch, Side, inChannels, filters, stride), gradientTolerance: 5e-3);
        Assert.Equal(projection, block.HasProjection);
    }

    /// <summary>
    /// A residual block after a ReLU applies that ReLU's mask as it adds its branches' input
    /// gradients (LayerFusion): a ReLU layer, then a block after a block, whose gradients reach
    /// the chain's input only through both masks.
    /// </summary>
    [Theory]
    [MemberData(nameof(TestDevices.Plans), MemberType = typeof(TestDevices))]
    public void ResidualBlockTakesOverTheReluBackwardOfTheLayerBeforeIt(string plan)
    {
        const int Batch = 2, Side = 6;
        var relu = new ReLU();
        var first = new ResidualBlock(8);
        var second = new ResidualBlock(16, 2);
        LayerCheck.Run(devices[plan], [relu, first, second], [Side, Side, 8], Batch, (x, p) =>
        {
            var a = ReferenceBlock(x.Select(v => Math.Max(0, v)).ToArray(), p, 0, Batch, Side, 8, 8, 1);
            return ReferenceBlock(a, p, 6, Batch, Side, 8, 16, 2);
        }, gradientTolerance: 5e-3);
        Assert.True(first.TakesReluBackward && relu.ReluBackwardTakenOver);
        Assert.True(second.TakesReluBackward && first.ReluBackwardTakenOver);
        Assert.False(second.ReluBackwardTakenOver);
    }

    /// <summary>A basic block's output from its parameters p[at..] (conv_a, bn_a, conv_b, bn_b, then the projection's).</summary>
    static double[] ReferenceBlock(double[] x, IReadOnlyList<double[]> p, int at, int batch, int side, int inChannels, int filters, int stride)
    {
        int outSide = (side + 2 - 3) / stride + 1;
        bool projection = stride != 1 || inChannels != filters;
        var a = Reference.Conv2d(x, p[at], [], batch, side, side, inChannels, filters, 3, stride, 1, relu: false);
        a = Reference.BatchNorm(a, p[at + 1], p[at + 2], filters, Epsilon).Select(v => Math.Max(0, v)).ToArray();
        a = Reference.Conv2d(a, p[at + 3], [], batch, outSide, outSide, filters, filters, 3, 1, 1, relu: false);
        a = Reference.BatchNorm(a, p[at + 4], p[at + 5], filters, Epsilon);
        var s = projection
            ? Reference.BatchNorm(Reference.Conv2d(x, p[at + 6], [], batch, side, side, inChannels, filters, 1, stride, 0, relu: false),
                p[at + 7], p[at + 8], filters, Epsilon)
            : x;
        return a.Select((v, i) => Math.Max(0, v + s[i])).ToArray();
    }

    /// <summary>
    /// A residual block at training size (32 images of 28×28×16: 25,088 rows, several reduction
    /// chunks) on each GPU-shaped plan as it really runs, against the CPU plan. The plans sum in
    /// other orders, so a pre-activation within rounding of 0 can fall on the other side of the
    /// inner ReLU; that element's gradient then differs by its whole value and the 3×3
    /// convolution spreads it over 3×3×16 input elements (and the first convolution's weight
    /// gradient over its taps). Measured here: about 3 such flips, 396 of 401,408 input-gradient
    /// elements off by more than 1e-3, relative L2 error 2.2e-3 for the input and the parameter
    /// gradients, the same on both plans. So: outputs to 1e-4 (relative L2), parameter gradients to
    /// 1e-2, and the input gradient off in under 0.5 % of its elements.
    /// </summary>
    [Theory]
    [InlineData("gpu", Traits = [TestDevices.PlanTrait, TestDevices.OpenCLGpu])]
    [InlineData("opencl-cpu")]
    [InlineData(TestDevices.Cuda, Traits = [TestDevices.PlanTrait, TestDevices.Cuda])]
    public void ResidualBlockAtTrainingSizeAgreesWithTheCpuPlan(string plan)
    {
        const int Batch = 32;
        using var device = plan == TestDevices.Cuda ? TestDevices.RequireCuda(TestDevices.OpenCuda(null))
            : OpenOrSkip(() => ComputeDevice.Open(DeviceKind.OpenCL, plan == "gpu" ? LaunchPlan.ForGpu() : LaunchPlan.ForOpenCLCpu()));
        var input = TestData.Uniform(Batch * 28 * 28 * 16, 21);
        var outputGrad = TestData.Uniform(Batch * 28 * 28 * 16, 22);
        float[][] Run(ComputeDevice d)
        {
            using var model = new Sequential("block", [28, 28, 16], [new ResidualBlock(16, 1)]).Build(d, Batch, 1, inputGradient: true);
            using var x = Tensor.Zeros(d, Batch, 28, 28, 16);
            using var dy = Tensor.Zeros(d, Batch, 28, 28, 16);
            x.CopyFrom(input);
            dy.CopyFrom(outputGrad);
            var y = model.Forward(x, new PassContext(true, 3)).ToArray();
            var dx = model.Layers[0].Backward(dy)!.ToArray();
            return [y, model.GradientBuffer.ToArray(), dx];
        }
        var expected = Run(devices.Cpu);
        var actual = Run(device);
        static double RelativeL2(float[] e, float[] a) =>
            Math.Sqrt(e.Zip(a, (u, v) => ((double)u - v) * ((double)u - v)).Sum() / e.Sum(u => (double)u * u));
        Assert.True(RelativeL2(expected[0], actual[0]) < 1e-4, $"output: {RelativeL2(expected[0], actual[0]):E2}");
        Assert.True(RelativeL2(expected[1], actual[1]) < 1e-2, $"parameter gradients: {RelativeL2(expected[1], actual[1]):E2}");
        int off = expected[2].Zip(actual[2], (u, v) => Math.Abs(u - v) > 1e-3 ? 1 : 0).Sum();
        Assert.True(off < expected[2].Length / 200, $"input gradient: {off} of {expected[2].Length} elements off by more than 1e-3");
    }

    static ComputeDevice OpenOrSkip(Func<ComputeDevice> open)
    {
        try
        {
            return open();
        }
        catch (DeviceUnavailableException e)
        {
            return TestDevices.RequireOpenCL(null, e.Message);
        }
    }
}
