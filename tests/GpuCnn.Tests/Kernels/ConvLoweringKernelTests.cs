using GpuCnn.Devices;
using GpuCnn.Kernels;
using GpuCnn.Tensors;

namespace GpuCnn.Tests.Kernels;

/// <summary>
/// The implicit GEMM's helpers, element for element against plain loops: the padded copy and the
/// flipped kernel; the weight gradient read unpadded against the same over the padded copy; and a
/// strided layer's input gradient by parity classes against its defining sum; the weight gradient
/// by kernel rows against the direct tile's.
/// </summary>
[Collection("devices")]
public sealed class ConvLoweringKernelTests(TestDevices devices)
{
    [Theory]
    [MemberData(nameof(TestDevices.Plans), MemberType = typeof(TestDevices))]
    public void Conv2dPadCopiesTheImageIntoAZeroBorder(string plan)
    {
        var device = devices[plan];
        // Eight channels go as Float8, three one by one; padding 1 and 2. The plans write whole
        // padded rows (cpu), single pixels (gpu) or segments of 3 pixels (the tests' opencl-cpu).
        foreach (var (h, w, c, p) in new[] { (5, 4, 8, 1), (3, 6, 3, 2), (4, 4, 16, 1) })
        {
            const int Batch = 2;
            var g = new ConvGeometry(Batch, h, w, c, 3, 3, 1, p);
            int ph = h + 2 * p, pw = w + 2 * p;
            var x = TestData.Uniform(Batch * h * w * c, 5);
            using var input = Tensor.Zeros(device, Batch, h, w, c);
            // Filled with non-zeros first, so the border must be written, not left as allocated.
            using var padded = Tensor.Zeros(device, Batch, ph, pw, c);
            padded.CopyFrom(TestData.Uniform(Batch * ph * pw * c, 6, 1f, 2f));
            input.CopyFrom(x);
            device.Kernels.Conv2dPad(input.View, padded.View, g);
            var expected = new float[Batch * ph * pw * c];
            for (int n = 0; n < Batch; n++)
                for (int y = 0; y < h; y++)
                    for (int xx = 0; xx < w; xx++)
                        for (int k = 0; k < c; k++)
                            expected[((n * ph + y + p) * pw + xx + p) * c + k] = x[((n * h + y) * w + xx) * c + k];
            Assert.Equal(expected, padded.ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(TestDevices.Plans), MemberType = typeof(TestDevices))]
    public void Conv2dKernelFlipTurnsTheKernelAndSwapsItsChannels(string plan)
    {
        var device = devices[plan];
        foreach (var (k, cin, filters) in new[] { (3, 4, 16), (1, 3, 5), (5, 2, 3) })
        {
            var w = TestData.Uniform(k * k * cin * filters, 7);
            using var kernel = Tensor.Zeros(device, k, k, cin, filters);
            using var flipped = Tensor.Zeros(device, k, k, filters, cin);
            kernel.CopyFrom(w);
            device.Kernels.Conv2dKernelFlip(kernel.View, flipped.View, k, cin, filters);
            var expected = new float[w.Length];
            for (int kh = 0; kh < k; kh++)
                for (int kw = 0; kw < k; kw++)
                    for (int f = 0; f < filters; f++)
                        for (int c = 0; c < cin; c++)
                            expected[((kh * k + kw) * filters + f) * cin + c] = w[(((k - 1 - kh) * k + k - 1 - kw) * cin + c) * filters + f];
            Assert.Equal(expected, flipped.ToArray());
        }
    }

    /// <summary>
    /// A short-K convolution with its 2×2 max pooling in one pass (Conv2dForwardMaxPool) against the
    /// two passes it replaces, Conv2dForwardImplicit then MaxPool2DForward: the pooled values and
    /// the winning taps equal to the bit. Grey and RGB input, stride 1 and 2, odd outputs (the
    /// pooling drops a row and a column), 16, 32 and 48 filters (32 at a time, then 16), and
    /// kernels mostly below zero, so that the ReLU leaves windows of tied zeros, where the first
    /// tap must win.
    /// </summary>
    [Theory]
    [MemberData(nameof(TestDevices.Plans), MemberType = typeof(TestDevices))]
    public void Conv2dForwardMaxPoolGivesTheTwoPassesBitForBit(string plan)
    {
        var device = devices[plan];
        foreach (var (h, w, cin, filters, stride, bias, low) in new[]
                 {
                     (8, 8, 1, 32, 1, true, -1f), (9, 7, 3, 16, 1, false, -1f), (11, 12, 2, 16, 2, true, -1f), (13, 11, 1, 32, 2, false, -1f),
                     (8, 10, 1, 48, 1, true, -1f), (8, 9, 1, 32, 1, true, -3f),
                 })
        {
            const int Batch = 3;
            var g = new ConvGeometry(Batch, h, w, cin, 3, 3, stride, 0);
            var p = new PoolGeometry(Batch, g.OutHeight, g.OutWidth, filters, 2, reluBefore: true);
            Assert.True(KernelLauncher.ForwardMaxPoolFits(g, filters, p));
            var epilogue = GemmArgs.RowMajor(g.ColumnRows, filters, g.ColumnWidth).WithEpilogue(bias, relu: true);
            using var input = Tensor.Zeros(device, Batch, h, w, cin);
            using var kernel = Tensor.Zeros(device, 3, 3, cin, filters);
            using var biases = Tensor.Zeros(device, filters);
            using var output = Tensor.Zeros(device, Batch, g.OutHeight, g.OutWidth, filters);
            using var pooled = Tensor.Zeros(device, Batch, p.OutHeight, p.OutWidth, filters);
            using var fusedPooled = Tensor.Zeros(device, Batch, p.OutHeight, p.OutWidth, filters);
            using var argmax = Tensor<int>.Zeros(device, [Batch, p.OutHeight, p.OutWidth, filters]);
            using var fusedArgmax = Tensor<int>.Zeros(device, [Batch, p.OutHeight, p.OutWidth, filters]);
            input.CopyFrom(TestData.Uniform(Batch * h * w * cin, 31, 0f, 1f));
            kernel.CopyFrom(TestData.Uniform(9 * cin * filters, 32, low, 1f));
            biases.CopyFrom(TestData.Uniform(filters, 33));
            device.Kernels.Conv2dForwardImplicit(input.View, kernel.View, output.View, biases.View, g, epilogue);
            device.Kernels.MaxPool2DForward(output.View, pooled.View, argmax.View, p);
            // Written over values no pass leaves, so every element must be written.
            fusedPooled.CopyFrom(TestData.Uniform(fusedPooled.Length, 34, 5f, 6f));
            fusedArgmax.CopyFrom(Enumerable.Repeat(-1, fusedArgmax.Length).ToArray());
            device.Kernels.Conv2dForwardMaxPool(input.View, kernel.View, biases.View, fusedPooled.View, fusedArgmax.View, g, p, epilogue);
            var expectedTaps = argmax.ToArray();
            var expected = pooled.ToArray();
            Assert.Contains(expectedTaps, tap => tap == 3);
            if (low < -1f) Assert.Contains(0f, expected); // windows of tied zeros
            Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), fusedPooled.ToArray().Select(BitConverter.SingleToInt32Bits));
            Assert.Equal(expectedTaps, fusedArgmax.ToArray());
        }
        var padded = new ConvGeometry(1, 8, 8, 1, 3, 3, 1, 1);
        Assert.False(KernelLauncher.ForwardMaxPoolFits(padded, 16, new PoolGeometry(1, 8, 8, 16, 2)));
        var deep = new ConvGeometry(1, 8, 8, 4, 3, 3, 1, 0);
        Assert.False(KernelLauncher.ForwardMaxPoolFits(deep, 16, new PoolGeometry(1, 6, 6, 16, 2)));
        var grey = new ConvGeometry(1, 8, 8, 1, 3, 3, 1, 0);
        Assert.True(KernelLauncher.ForwardMaxPoolFits(grey, 16, new PoolGeometry(1, 6, 6, 16, 2)));
        Assert.False(KernelLauncher.ForwardMaxPoolFits(grey, 8, new PoolGeometry(1, 6, 6, 8, 2)));
        Assert.False(KernelLauncher.ForwardMaxPoolFits(grey, 16, new PoolGeometry(1, 6, 6, 16, 3)));
        Assert.False(KernelLauncher.ForwardMaxPoolFits(grey, 16, new PoolGeometry(1, 7, 6, 16, 2)));
    }

    /// <summary>
    /// The weight and bias gradients of a convolution under its 2×2 max pooling, straight from the
    /// pooling's gradient (Conv2dWeightGradMaxPool, MaxPool2DBackwardColumnSum), against the three
    /// passes they replace, MaxPool2DBackward, then Conv2dWeightGradImplicit and ColumnSum over its
    /// dX: equal to the bit, with each register tile (those of 32 filters run as 16) and the test
    /// plans' chunks of 8 pixels. The pooling's output and taps are Conv2dForwardMaxPool's over
    /// kernels half below zero, so windows of zeros occur (asserted where the ReLU's mask applies); grey and RGB, stride 1 and 2, odd
    /// outputs (the pooling drops a row and a column), 16, 32 and 48 filters, with and without the ReLU's mask.
    /// </summary>
    [Theory]
    [MemberData(nameof(PlansAndTiles), false)]
    public void Conv2dWeightGradMaxPoolGivesTheThreePassesBitForBit(string plan, int tile)
    {
        var device = devices.WithConv(plan, ConvVariant.Implicit, tile);
        foreach (var (h, w, cin, filters, stride, relu) in new[]
                 {
                     (8, 8, 1, 32, 1, true), (9, 7, 3, 16, 1, true), (11, 12, 2, 16, 2, false), (8, 10, 1, 48, 1, true), (13, 11, 1, 32, 2, false),
                 })
        {
            const int Batch = 3;
            var g = new ConvGeometry(Batch, h, w, cin, 3, 3, stride, 0);
            var p = new PoolGeometry(Batch, g.OutHeight, g.OutWidth, filters, 2, reluBefore: relu);
            Assert.True(KernelLauncher.PoolsOutput(g, filters, p));
            using var input = Tensor.Zeros(device, Batch, h, w, cin);
            using var kernel = Tensor.Zeros(device, 3, 3, cin, filters);
            using var pooled = Tensor.Zeros(device, Batch, p.OutHeight, p.OutWidth, filters);
            using var argmax = Tensor<int>.Zeros(device, [Batch, p.OutHeight, p.OutWidth, filters]);
            using var pooledGrad = Tensor.Zeros(device, Batch, p.OutHeight, p.OutWidth, filters);
            using var outputGrad = Tensor.Zeros(device, Batch, g.OutHeight, g.OutWidth, filters);
            using var kernelGrad = Tensor.Zeros(device, 3, 3, cin, filters);
            using var biasGrad = Tensor.Zeros(device, filters);
            using var fusedKernelGrad = Tensor.Zeros(device, 3, 3, cin, filters);
            using var fusedBiasGrad = Tensor.Zeros(device, filters);
            input.CopyFrom(TestData.Uniform(input.Length, 51, 0f, 1f));
            kernel.CopyFrom(TestData.Uniform(kernel.Length, 52, -1f, 1f));
            pooledGrad.CopyFrom(TestData.Uniform(pooledGrad.Length, 53));
            var epilogue = GemmArgs.RowMajor(g.ColumnRows, filters, g.ColumnWidth).WithEpilogue(false, relu);
            device.Kernels.Conv2dForwardMaxPool(input.View, kernel.View, null, pooled.View, argmax.View, g, p, epilogue);
            device.Kernels.MaxPool2DBackward(pooledGrad.View, argmax.View, pooled.View, outputGrad.View, p);
            device.Kernels.Conv2dWeightGradImplicit(input.View, outputGrad.View, kernelGrad.View, g, filters);
            device.Kernels.ColumnSum(outputGrad.View, biasGrad.View, g.ColumnRows, filters);
            // Written over values no pass leaves, so every element must be written.
            fusedKernelGrad.CopyFrom(TestData.Uniform(fusedKernelGrad.Length, 54, 5f, 6f));
            fusedBiasGrad.CopyFrom(TestData.Uniform(filters, 55, 5f, 6f));
            device.Kernels.Conv2dWeightGradMaxPool(input.View, pooledGrad.View, argmax.View, pooled.View, fusedKernelGrad.View, g, p);
            device.Kernels.MaxPool2DBackwardColumnSum(pooledGrad.View, argmax.View, pooled.View, fusedBiasGrad.View, p);
            if (relu) Assert.Contains(0f, pooled.ToArray()); // windows whose gradient the ReLU's mask stops
            Assert.Equal(Bits(kernelGrad), Bits(fusedKernelGrad));
            Assert.Equal(Bits(biasGrad), Bits(fusedBiasGrad));
        }
        var padded = new ConvGeometry(1, 8, 8, 1, 3, 3, 1, 1);
        Assert.False(KernelLauncher.PoolsOutput(padded, 16, new PoolGeometry(1, 8, 8, 16, 2)));
        var grey = new ConvGeometry(1, 8, 8, 1, 3, 3, 1, 0);
        Assert.False(KernelLauncher.PoolsOutput(grey, 8, new PoolGeometry(1, 6, 6, 8, 2)));
        Assert.False(KernelLauncher.PoolsOutput(grey, 16, new PoolGeometry(1, 6, 6, 16, 3)));

        static int[] Bits(Tensor t) => t.ToArray().Select(BitConverter.SingleToInt32Bits).ToArray();
    }

    /// <summary>
    /// A stride-2 layer's input gradient by ParityClasses (four stride-1 convolutions, interleaved)
    /// against the sum that defines it: dX[n, iy, ix, c] = Σ dZ[n, oy, ox, f] · W[kh, kw, c, f] over
    /// iy = 2·oy - p + kh, ix = 2·ox - p + kw. Odd and even sizes (the classes' last rows and columns
    /// read past dZ's edge or not), 3×3 and 1×1 (whose odd pixels see no tap).
    /// </summary>
    [Theory]
    [MemberData(nameof(TestDevices.Plans), MemberType = typeof(TestDevices))]
    public void Conv2dInputGradImplicitOfAStridedLayerGoesByParity(string plan)
    {
        var device = devices[plan];
        foreach (var (h, w, cin, filters, k) in new[] { (7, 7, 16, 32, 3), (8, 6, 16, 16, 3), (7, 8, 32, 16, 1) })
        {
            const int Batch = 2;
            var g = new ConvGeometry(Batch, h, w, cin, k, k, 2, (k - 1) / 2);
            Assert.True(KernelLauncher.ImplicitInputGradFits(g));
            var dz = TestData.Uniform(Batch * g.OutHeight * g.OutWidth * filters, 8);
            var wk = TestData.Uniform(k * k * cin * filters, 9);
            using var outputGrad = Tensor.Zeros(device, Batch, g.OutHeight, g.OutWidth, filters);
            using var kernel = Tensor.Zeros(device, k, k, cin, filters);
            using var inputGrad = Tensor.Zeros(device, Batch, h, w, cin);
            outputGrad.CopyFrom(dz);
            kernel.CopyFrom(wk);
            inputGrad.CopyFrom(TestData.Uniform(Batch * h * w * cin, 10, 1f, 2f)); // every element must be written
            device.Kernels.Conv2dInputGradImplicit(outputGrad.View, kernel.View, inputGrad.View, g, filters);
            var expected = new double[Batch * h * w * cin];
            for (int n = 0; n < Batch; n++)
                for (int oy = 0; oy < g.OutHeight; oy++)
                    for (int ox = 0; ox < g.OutWidth; ox++)
                        for (int kh = 0; kh < k; kh++)
                            for (int kw = 0; kw < k; kw++)
                            {
                                int iy = 2 * oy - g.Padding + kh, ix = 2 * ox - g.Padding + kw;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                for (int c = 0; c < cin; c++)
                                    for (int f = 0; f < filters; f++)
                                        expected[((n * h + iy) * w + ix) * cin + c] +=
                                            (double)dz[((n * g.OutHeight + oy) * g.OutWidth + ox) * filters + f] * wk[((kh * k + kw) * cin + c) * filters + f];
                            }
            var actual = inputGrad.ToArray();
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5 * (1 + Math.Abs(expected[i])),
                    $"{h}x{w}x{cin} {k}x{k}/2 element {i}: {actual[i]} against {expected[i]}");
        }
    }

    /// <summary>Every plan with every register tile, or with every kernel-row tile.</summary>
    public static TheoryData<string, int> PlansAndTiles(bool kernelRows)
    {
        var data = new TheoryData<string, int>();
        foreach (var plan in TestDevices.PlanNames)
            foreach (int tile in kernelRows ? KernelLauncher.KernelRowTiles : KernelLauncher.Tiles)
                data.Add(TestDevices.Traited(new TheoryDataRow<string, int>(plan, tile), plan));
        return data;
    }

    /// <summary>
    /// With padding the weight gradient reads x unpadded, tile rows tap by tap, and skips the pixels
    /// whose tap falls in the padding: the same values as over the zero-padded copy, where those
    /// terms are products with zero. Stride 1 and 2, padding 1 and 2, channels that the 6- and
    /// 12-row tiles do not divide (a short tile in every tap).
    /// </summary>
    [Theory]
    [MemberData(nameof(PlansAndTiles), false)]
    public void Conv2dWeightGradImplicitSkipsThePaddingAsTheZerosOfThePaddedCopy(string plan, int tile)
    {
        var device = devices.WithConv(plan, ConvVariant.Implicit, tile);
        const int Batch = 2, Filters = 32;
        foreach (var (h, w, c, stride, p) in new[] { (5, 5, 16, 1, 1), (7, 6, 8, 2, 1), (6, 5, 24, 1, 2) })
        {
            var g = new ConvGeometry(Batch, h, w, c, 3, 3, stride, p);
            Assert.True(WeightGradRows.ReadsUnpadded(g));
            var over = g.OverPaddedInput;
            using var input = Tensor.Zeros(device, Batch, h, w, c);
            using var padded = Tensor.Zeros(device, Batch, h + 2 * p, w + 2 * p, c);
            using var outputGrad = Tensor.Zeros(device, Batch, g.OutHeight, g.OutWidth, Filters);
            using var unpaddedGrad = Tensor.Zeros(device, 3, 3, c, Filters);
            using var paddedGrad = Tensor.Zeros(device, 3, 3, c, Filters);
            input.CopyFrom(TestData.Uniform(Batch * h * w * c, 8));
            outputGrad.CopyFrom(TestData.Uniform(Batch * g.OutHeight * g.OutWidth * Filters, 9));
            device.Kernels.Conv2dPad(input.View, padded.View, g);
            device.Kernels.Conv2dWeightGradImplicit(input.View, outputGrad.View, unpaddedGrad.View, g, Filters);
            device.Kernels.Conv2dWeightGradImplicit(padded.View, outputGrad.View, paddedGrad.View, over, Filters);
            Assert.Equal(paddedGrad.ToArray(), unpaddedGrad.ToArray());
        }
    }

    /// <summary>
    /// The weight gradient by kernel rows gives the direct tile's sums, bit for bit: unpadded,
    /// padded by 1 and 2 (taps in the padding at both edges of every row), stride 2, and on the
    /// test plans' chunks of 8 pixels, which end inside rows. Each geometry is one the tile takes.
    /// </summary>
    [Theory]
    [MemberData(nameof(PlansAndTiles), true)]
    public void Conv2dWeightGradKernelRowGivesTheDirectTilesSums(string plan, int tile)
    {
        var byRows = devices.WithConv(plan, ConvVariant.Implicit, tile);
        var direct = devices.WithConv(plan, ConvVariant.Implicit, KernelLauncher.Tile(4, 16));
        const int Batch = 2, Filters = 32;
        int ran = 0;
        foreach (var (h, w, c, stride, p) in new[] { (6, 5, 32, 1, 0), (5, 5, 16, 1, 1), (7, 6, 16, 2, 1), (6, 7, 32, 1, 2), (9, 8, 32, 2, 1) })
        {
            var g = new ConvGeometry(Batch, h, w, c, 3, 3, stride, p);
            if (!KernelLauncher.KernelRowFits(g, Filters, tile)) continue;
            float[] x = TestData.Uniform(Batch * h * w * c, 10), dz = TestData.Uniform(Batch * g.OutHeight * g.OutWidth * Filters, 11);
            float[] WeightGrad(ComputeDevice device)
            {
                using var input = Tensor.Zeros(device, Batch, h, w, c);
                using var outputGrad = Tensor.Zeros(device, Batch, g.OutHeight, g.OutWidth, Filters);
                using var kernelGrad = Tensor.Zeros(device, 3, 3, c, Filters);
                input.CopyFrom(x);
                outputGrad.CopyFrom(dz);
                device.Kernels.Conv2dWeightGradImplicit(input.View, outputGrad.View, kernelGrad.View, g, Filters);
                return kernelGrad.ToArray();
            }
            Assert.Equal(WeightGrad(direct), WeightGrad(byRows));
            ran++;
        }
        Assert.True(ran >= 2, $"{KernelLauncher.TileName(tile)} took {ran} of the geometries");
    }
}
