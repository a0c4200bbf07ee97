using GpuCnn.Devices;
using GpuCnn.Layers;
using GpuCnn.Tensors;

namespace GpuCnn.Tests.Layers;

[Collection("devices")]
public sealed class LayerGradientTests(TestDevices devices)
{
    public static TheoryData<string, ConvVariant, int, int, int, int, int, int, bool> ConvCases()
    {
        var data = new TheoryData<string, ConvVariant, int, int, int, int, int, int, bool>();
        foreach (var plan in TestDevices.PlanNames)
        {
            // plan, variant, height, width, in channels, filters, kernel, stride, same padding; Auto: the plan's own choice.
            void Add(ConvVariant variant, int h, int w, int cin, int filters, int kernel, int stride, bool same) =>
                data.Add(TestDevices.Traited(new TheoryDataRow<string, ConvVariant, int, int, int, int, int, int, bool>(plan, variant, h, w, cin, filters, kernel, stride, same), plan));
            Add(ConvVariant.Auto, 7, 6, 1, 16, 3, 1, false);
            Add(ConvVariant.Auto, 6, 5, 8, 16, 3, 1, false);
            Add(ConvVariant.Auto, 7, 7, 3, 10, 3, 2, true);
            Add(ConvVariant.Auto, 5, 5, 16, 32, 3, 1, true);
            Add(ConvVariant.Auto, 6, 6, 8, 16, 1, 2, false);
            // Unpadded with input channels not a multiple of 8: the implicit GEMM.
            Add(ConvVariant.Auto, 8, 7, 3, 32, 3, 2, false);
            // Each variant forced where it fits: im2col on the first layer's shape, the implicit GEMM on 8 channels.
            Add(ConvVariant.Im2Col, 7, 6, 1, 16, 3, 1, false);
            Add(ConvVariant.Implicit, 6, 5, 8, 16, 3, 1, false);
            Add(ConvVariant.Implicit, 6, 6, 8, 16, 1, 2, false);
            // Padded layers over their padded copy; padded, stride 1 with 16k input channels also takes the input gradient implicitly.
            Add(ConvVariant.Implicit, 5, 5, 16, 32, 3, 1, true);
            Add(ConvVariant.Implicit, 6, 5, 16, 16, 3, 1, false);
            Add(ConvVariant.Implicit, 7, 7, 3, 16, 3, 2, true);
            Add(ConvVariant.Implicit, 7, 6, 1, 16, 3, 1, true);
            // Winograd: odd outputs (ragged tiles), same and valid padding, filters that only the generic GEMM takes.
            Add(ConvVariant.Winograd, 7, 6, 1, 16, 3, 1, false);
            Add(ConvVariant.Winograd, 6, 5, 8, 16, 3, 1, false);
            Add(ConvVariant.Winograd, 5, 5, 16, 32, 3, 1, true);
            Add(ConvVariant.Winograd, 7, 7, 3, 10, 3, 1, true);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Conv2DMatchesReferenceAndFiniteDifferences(string plan, ConvVariant variant, int h, int w, int cin, int filters,
        int kernel, int stride, bool same)
    {
        const int Batch = 3;
        int pad = same ? kernel / 2 : 0;
        var layer = new Conv2D(filters, kernel, Activation.Relu, same ? Padding.Same : Padding.Valid, stride);
        var device = devices.WithConv(plan, variant);
        LayerCheck.Run(device, layer, [h, w, cin], Batch,
            (x, p) => Reference.Conv2d(x, p[0], p[1], Batch, h, w, cin, filters, kernel, stride, pad, relu: true));
        if (variant != ConvVariant.Auto) Assert.Equal(variant, layer.Variant);
    }

    public static TheoryData<string, int, int, int, int, bool> RegisterTileCases()
    {
        var data = new TheoryData<string, int, int, int, int, bool>();
        foreach (var plan in TestDevices.PlanNames)
            foreach (int tile in KernelLauncher.AllTiles)
            {
                // plan, tile, size, in channels, stride, same padding: output pixels (3·25, 3·25, 3·49) that neither
                // tile divides, and kernel rows 144 (the input gradient runs implicitly too), 27 and 9 (ragged for both).
                // Strided with 16 channels, the input gradient runs as four stride-1 convolutions (ParityClasses), ragged at 7 × 7.
                // Padded with 16 and 8 channels, the weight gradient reads x unpadded, tap by tap (a tap's last tile short where the rows do not divide Cin).
                // A fused Winograd tile runs the first's forward pass and input gradient (5×5: a ragged 2×2 or 4×4
                // tile at the edges; 7×7: a 4×4 tile three pixels wide) and the last's, unpadded with 64 channels
                // (too many for winograd12x16's forward pass).
                // A kernel-row tile runs only the weight gradient, where its channels divide Cin: the three that take it.
                void Add(int size, int cin, int stride, bool same) =>
                    data.Add(TestDevices.Traited(new TheoryDataRow<string, int, int, int, int, bool>(plan, tile, size, cin, stride, same), plan));
                if (KernelLauncher.IsKernelRowTile(tile))
                {
                    Add(5, 16, 1, true);
                    Add(7, 16, 2, true);
                    Add(6, 64, 1, false);
                    continue;
                }
                Add(5, 16, 1, true);
                Add(7, 16, 1, true);
                Add(9, 3, 2, true);
                Add(7, 8, 2, true);
                Add(7, 16, 2, true);
                Add(7, 1, 1, true);
                Add(6, 64, 1, false);
            }
        return data;
    }

    /// <summary>The implicit convolution with each tile: forward, weight and input gradients against the reference.</summary>
    [Theory]
    [MemberData(nameof(RegisterTileCases))]
    public void ImplicitConv2DMatchesReferenceWithEveryRegisterTile(string plan, int tile, int size, int cin, int stride, bool same)
    {
        const int Batch = 3, Filters = 32, Kernel = 3;
        int pad = same ? Kernel / 2 : 0;
        var layer = new Conv2D(Filters, Kernel, Activation.Relu, same ? Padding.Same : Padding.Valid, stride);
        var device = devices.WithConv(plan, ConvVariant.Implicit, tile);
        LayerCheck.Run(device, layer, [size, size, cin], Batch,
            (x, p) => Reference.Conv2d(x, p[0], p[1], Batch, size, size, cin, Filters, Kernel, stride, pad, relu: true));
        Assert.Equal(ConvVariant.Implicit, layer.Variant);
        Assert.Equal(tile, device.Plan.Tile);
    }

    [Theory]
    [InlineData("cpu", 37, 16, true)]
    [InlineData("cpu", 20, 10, false)]
    [InlineData("gpu", 9, 32, true)]
    [InlineData("generic", 33, 10, false)]
    [InlineData(TestDevices.OpenCLGpu, 9, 32, true, Traits = [TestDevices.PlanTrait, TestDevices.OpenCLGpu])]
    [InlineData(TestDevices.Cuda, 9, 32, true, Traits = [TestDevices.PlanTrait, TestDevices.Cuda])]
    [InlineData(TestDevices.OpenCLCpu, 20, 16, false)]
    public void DenseMatchesReferenceAndFiniteDifferences(string plan, int inputs, int units, bool relu)
    {
        const int Batch = 5;
        var layer = new Dense(units, relu ? Activation.Relu : Activation.None);
        LayerCheck.Run(devices[plan], layer, [inputs], Batch,
            (x, p) => Reference.Dense(x, p[0], p[1], Batch, inputs, units, relu));
    }

    [Theory]
    [InlineData("cpu", 6, 6, 8)]
    [InlineData("cpu", 5, 7, 3)]
    [InlineData("gpu", 7, 5, 16)]
    [InlineData("generic", 4, 4, 1)]
    [InlineData(TestDevices.OpenCLGpu, 7, 5, 16, Traits = [TestDevices.PlanTrait, TestDevices.OpenCLGpu])]
    [InlineData(TestDevices.Cuda, 7, 5, 16, Traits = [TestDevices.PlanTrait, TestDevices.Cuda])]
    [InlineData(TestDevices.OpenCLCpu, 5, 7, 3)]
    public void MaxPool2DMatchesReferenceAndFiniteDifferences(string plan, int h, int w, int c)
    {
        const int Batch = 2;
        LayerCheck.Run(devices[plan], new MaxPool2D(2), [h, w, c], Batch,
            (x, _) => Reference.MaxPool2D(x, Batch, h, w, c, 2));
    }

    /// <summary>
    /// A ReLU (fused into Conv2D, or a layer of its own) followed by max pooling: the pooling applies
    /// the ReLU's mask in its backward pass and the ReLU skips its own. Every input gradient is
    /// checked, so the windows without a positive value (which must pass no gradient) are too.
    /// The convolution qualifies for one forward pass with the pooling (Conv2dForwardMaxPool), which
    /// <see cref="TheModelRunsAShortConvolutionAndItsPoolingInOnePass"/> runs.
    /// </summary>
    [Theory]
    [InlineData("cpu")]
    [InlineData("gpu")]
    [InlineData("generic")]
    [InlineData(TestDevices.OpenCLGpu, Traits = [TestDevices.PlanTrait, TestDevices.OpenCLGpu])]
    [InlineData(TestDevices.Cuda, Traits = [TestDevices.PlanTrait, TestDevices.Cuda])]
    [InlineData(TestDevices.OpenCLCpu)]
    public void MaxPool2DTakesOverTheBackwardPassOfTheReluBeforeIt(string plan)
    {
        const int Batch = 2;
        var conv = new Conv2D(16, 3, Activation.Relu);
        var convPool = new MaxPool2D(2);
        LayerCheck.Run(devices[plan], [conv, convPool], [6, 7, 3], Batch, (x, p) =>
            PooledWithSomeEmptyWindows(Reference.Conv2d(x, p[0], p[1], Batch, 6, 7, 3, 16, 3, 1, 0, relu: true), 4, 5, 16),
            samplesPerTensor: int.MaxValue);
        Assert.True(convPool.TakesReluBackward && conv.ReluBackwardTakenOver);
        // A short K (3×3×3) and no padding: a model runs the two in one forward pass.
        Assert.Same(conv, convPool.PoolsConvolution);

        var relu = new ReLU();
        var reluPool = new MaxPool2D(2);
        LayerCheck.Run(devices[plan], [relu, reluPool], [5, 7, 8], Batch, (x, _) =>
            PooledWithSomeEmptyWindows(x.Select(v => Math.Max(v, 0)).ToArray(), 5, 7, 8), samplesPerTensor: int.MaxValue);
        Assert.True(reluPool.TakesReluBackward && relu.ReluBackwardTakenOver);

        static double[] PooledWithSomeEmptyWindows(double[] activations, int h, int w, int c)
        {
            var pooled = Reference.MaxPool2D(activations, Batch, h, w, c, 2);
            Assert.Contains(0.0, pooled); // a window without a positive value: the case the fusion must get right
            return pooled;
        }
    }

    /// <summary>
    /// A model's forward pass runs a short-K convolution and the 2×2 max pooling after it as one
    /// (MaxPool2D.ForwardMaxPool), and where the convolution is the lowest trained layer its
    /// backward pass takes the weight gradient straight from the pooling's gradient
    /// (MaxPool2D.BackwardWeightsMaxPool, whose kernels must run, and the pooling's own backward pass
    /// not). Its logits and gradients equal, bit for bit, those of the same model whose layers run
    /// their own passes, which LayerCheck holds to the reference. 48 filters (32, then 16, a
    /// window), a batch below the largest; again with the convolution frozen; and with a frozen
    /// layer below the pair, so that the pair's convolution is a lowest trained layer above others.
    /// </summary>
    [Theory]
    [MemberData(nameof(TestDevices.Plans), MemberType = typeof(TestDevices))]
    public void TheModelRunsAShortConvolutionAndItsPoolingInOnePass(string plan)
    {
        var device = devices[plan];
        const int Rows = 5;
        foreach (var (below, frozen, fusedBackward) in new (bool, string?, bool)[] { (false, null, true), (false, "conv2d", false), (true, "conv2d", true) })
        {
            GpuCnn.Models.Sequential Model() => new("pair", [10, 9, 3],
                [.. below ? new Layer[] { new Conv2D(2, 1) } : [], new Conv2D(48, 3, Activation.Relu), new MaxPool2D(2), new Flatten(), new Dense(4)]);
            using var fused = Model().Build(device, 8, seed: 5);
            using var separate = Model().Build(device, 8, seed: 5);
            var pool = (MaxPool2D)fused.Layers[below ? 2 : 1];
            Assert.NotNull(pool.PoolsConvolution);
            ((MaxPool2D)separate.Layers[below ? 2 : 1]).PoolsConvolution = null;
            using var x = Tensor.Zeros(device, Rows, 10, 9, 3);
            using var logitGrad = Tensor.Zeros(device, Rows, 4);
            x.CopyFrom(TestData.Uniform(x.Length, 41));
            logitGrad.CopyFrom(TestData.Uniform(logitGrad.Length, 42));
            fused.Freeze(frozen);
            separate.Freeze(frozen);
            var logits = Bits(fused.Forward(x, new PassContext(true, 3)));
            var launched = new List<string>();
            device.Kernels.Observer = record => launched.Add(record.Kernel);
            try
            {
                fused.Backward(logitGrad);
            }
            finally
            {
                device.Kernels.Observer = null;
            }
            Assert.Equal(fusedBackward, launched.Contains("Conv2dWeightGradMaxPool"));
            Assert.Equal(fusedBackward, launched.Contains("MaxPool2DBackwardColumnSum"));
            Assert.DoesNotContain("MaxPool2DBackward", launched); // below the pair's pooling nothing else runs, or nothing at all
            Assert.Equal(Bits(separate.Forward(x, new PassContext(true, 3))), logits);
            separate.Backward(logitGrad);
            Assert.Equal(Bits(separate.GradientBuffer), Bits(fused.GradientBuffer));
        }

        static int[] Bits(Tensor t) => t.ToArray().Select(BitConverter.SingleToInt32Bits).ToArray();
    }

    [Fact]
    public void FlattenIsAViewInNhwcOrder()
    {
        LayerCheck.Run(devices.Cpu, new Flatten(), [3, 2, 4], 2, (x, _) => x);
    }

    [Fact]
    public void DropoutIsTheIdentityAtInference()
    {
        var device = devices.Cpu;
        using var model = new GpuCnn.Models.Sequential("d", [16], [new Dropout(0.5f)]).Build(device, 4, 1);
        using var input = GpuCnn.Tensors.Tensor.Zeros(device, 4, 16);
        var x = TestData.Uniform(64, 1);
        input.CopyFrom(x);
        Assert.Equal(x, model.Forward(input, PassContext.Inference).ToArray());
        Assert.NotEqual(x, model.Forward(input, new PassContext(true, 3)).ToArray());
    }
}
