using GpuCnn.Devices;
using GpuCnn.Kernels;
using GpuCnn.Tensors;

namespace GpuCnn.Tests.Kernels;

/// <summary>
/// The Winograd weight gradient, F(3×3, 2×2) and F(3×3, 4×4), against the direct sum in doubles:
/// with one chunk of one batch, with many chunks, with chunks of several batches (the register
/// tile adding into its slab) and a ragged last chunk; over padding 0, 1 and 2, ragged edge tiles,
/// and register tiles of 4 and 8 channel rows by 16 and 32 filters.
/// </summary>
[Collection("devices")]
public sealed class WinogradKernelTests(TestDevices devices)
{
    public static TheoryData<string, int> PlansAndWeightGradTiles()
    {
        var data = new TheoryData<string, int>();
        foreach (var plan in TestDevices.PlanNames)
            foreach (int tile in new[] { KernelLauncher.WinogradTile + 816, KernelLauncher.Winograd4Tile + 416, KernelLauncher.Winograd4Tile + 432 })
                data.Add(TestDevices.Traited(new TheoryDataRow<string, int>(plan, tile), plan));
        return data;
    }

    [Theory]
    [MemberData(nameof(PlansAndWeightGradTiles))]
    public void Conv2dWinogradWeightGradMatchesTheDirectSum(string plan, int tile)
    {
        var device = devices[plan];
        const int Batch = 2;
        int size = KernelLauncher.WinogradSize(tile);
        foreach (var (h, w, c, filters, p) in new[] { (5, 5, 16, 32, 1), (7, 6, 16, 32, 0), (6, 7, 32, 32, 2) })
        {
            var g = new ConvGeometry(Batch, h, w, c, 3, 3, 1, p);
            var x = TestData.Uniform(Batch * h * w * c, 11);
            var dz = TestData.Uniform(Batch * g.OutHeight * g.OutWidth * filters, 12);
            using var input = Tensor.Zeros(device, Batch, h, w, c);
            using var outputGrad = Tensor.Zeros(device, Batch, g.OutHeight, g.OutWidth, filters);
            using var kernelGrad = Tensor.Zeros(device, 3, 3, c, filters);
            input.CopyFrom(x);
            outputGrad.CopyFrom(dz);
            var expected = DirectWeightGrad(x, dz, g, filters);
            int tiles = Conv2dWinogradKernels.Tiles(g, size);
            foreach (var (perChunk, batch) in new[] { (tiles, tiles), (1, 1), (3, 3), (5, 2), (tiles - 1, 4) })
            {
                device.Kernels.Conv2dWinogradWeightGrad(input.View, outputGrad.View, kernelGrad.View, g, tile,
                    WinogradWeightGradSplit.Of(tiles, filters, perChunk, batch));
                TestData.AssertClose(kernelGrad.ToArray(), expected, 1e-4);
            }
        }
    }

    public static TheoryData<string, int> PlansAndPairedTiles()
    {
        var data = new TheoryData<string, int>();
        foreach (var plan in TestDevices.PlanNames)
            foreach (int tile in KernelLauncher.WinogradTiles.Where(KernelLauncher.PairsElements))
                data.Add(TestDevices.Traited(new TheoryDataRow<string, int>(plan, tile), plan));
        return data;
    }

    /// <summary>
    /// The fused kernel multiplying two elements at a time gives the same bits as the same tile
    /// taking one at a time, in the forward pass (bias and ReLU) and the input gradient: padding 0-2,
    /// ragged edge tiles, 16 and 32 channels (the input gradient's convolution takes the 32 filters
    /// in and gives the channels out, so a tile of 32 filters runs it only where there are 32).
    /// </summary>
    [Theory]
    [MemberData(nameof(PlansAndPairedTiles))]
    public void Conv2dWinogradFusedGivesTheSameBitsTwoElementsAtATime(string plan, int tile)
    {
        var paired = devices.WithConv(plan, ConvVariant.Implicit, tile);
        var single = devices.WithConv(plan, ConvVariant.Implicit, tile - KernelLauncher.WinogradPairs);
        const int Batch = 2, Filters = 32;
        foreach (var (h, w, c, p) in new[] { (5, 5, 16, 1), (7, 6, 32, 0), (5, 5, 32, 1), (9, 7, 16, 2) })
        {
            var g = new ConvGeometry(Batch, h, w, c, 3, 3, 1, p);
            var epilogue = GemmArgs.RowMajor(g.ColumnRows, Filters, g.ColumnWidth).WithEpilogue(bias: true, relu: true);
            float[] Forward(ComputeDevice device)
            {
                using var input = Tensor.Zeros(device, Batch, h, w, c);
                using var kernel = Tensor.Zeros(device, 3, 3, c, Filters);
                using var biases = Tensor.Zeros(device, Filters);
                using var output = Tensor.Zeros(device, Batch, g.OutHeight, g.OutWidth, Filters);
                input.CopyFrom(TestData.Uniform(input.Length, 41));
                kernel.CopyFrom(TestData.Uniform(kernel.Length, 42));
                biases.CopyFrom(TestData.Uniform(Filters, 43));
                device.Kernels.Conv2dForwardImplicit(input.View, kernel.View, output.View, biases.View, g, epilogue);
                return output.ToArray();
            }
            float[] InputGrad(ComputeDevice device)
            {
                using var outputGrad = Tensor.Zeros(device, Batch, g.OutHeight, g.OutWidth, Filters);
                using var kernel = Tensor.Zeros(device, 3, 3, c, Filters);
                using var inputGrad = Tensor.Zeros(device, Batch, h, w, c);
                outputGrad.CopyFrom(TestData.Uniform(outputGrad.Length, 44));
                kernel.CopyFrom(TestData.Uniform(kernel.Length, 45));
                device.Kernels.Conv2dInputGradImplicit(outputGrad.View, kernel.View, inputGrad.View, g, Filters);
                return inputGrad.ToArray();
            }
            var forward = Forward(single);
            Assert.Contains(forward, v => v > 0f);
            Assert.Equal(forward.Select(BitConverter.SingleToInt32Bits), Forward(paired).Select(BitConverter.SingleToInt32Bits));
            Assert.Equal(InputGrad(single).Select(BitConverter.SingleToInt32Bits), InputGrad(paired).Select(BitConverter.SingleToInt32Bits));
        }
    }

    /// <summary>A split with a chunk of no tiles would leave that chunk's slab unwritten, and one that misses tiles would drop them: both are refused.</summary>
    [Theory]
    [InlineData(4, 6, 3)]
    [InlineData(2, 8, 4)]
    public void Conv2dWinogradWeightGradRefusesASplitThatDoesNotCoverTheTilesOnce(int chunks, int tilesPerChunk, int batch)
    {
        var device = devices["cpu"];
        var g = new ConvGeometry(2, 10, 10, 16, 3, 3, 1, 1);
        Assert.Equal(18, Conv2dWinogradKernels.Tiles(g, 4));
        using var input = Tensor.Zeros(device, 2, 10, 10, 16);
        using var outputGrad = Tensor.Zeros(device, 2, 10, 10, 16);
        using var kernelGrad = Tensor.Zeros(device, 3, 3, 16, 16);
        var split = new WinogradWeightGradSplit { Filters = 16, Chunks = chunks, TilesPerChunk = tilesPerChunk, Batch = batch };
        var error = Assert.Throws<ArgumentException>(() => device.Kernels.Conv2dWinogradWeightGrad(input.View, outputGrad.View, kernelGrad.View, g,
            KernelLauncher.Winograd4Tile + 416, split));
        Assert.Contains("do not cover", error.Message);
    }

    /// <summary>dW[kh, kw, c, f] = Σ over batch and output pixels of x[n, oy - p + kh, ox - p + kw, c] · dZ[n, oy, ox, f].</summary>
    static double[] DirectWeightGrad(float[] x, float[] dz, ConvGeometry g, int filters)
    {
        var dw = new double[9 * g.InChannels * filters];
        for (int n = 0; n < g.Batch; n++)
            for (int oy = 0; oy < g.OutHeight; oy++)
                for (int ox = 0; ox < g.OutWidth; ox++)
                    for (int kh = 0; kh < 3; kh++)
                        for (int kw = 0; kw < 3; kw++)
                        {
                            int iy = oy - g.Padding + kh, ix = ox - g.Padding + kw;
                            if (iy < 0 || iy >= g.InHeight || ix < 0 || ix >= g.InWidth) continue;
                            for (int c = 0; c < g.InChannels; c++)
                            {
                                double xv = x[((n * g.InHeight + iy) * g.InWidth + ix) * g.InChannels + c];
                                for (int f = 0; f < filters; f++)
                                    dw[((kh * 3 + kw) * g.InChannels + c) * filters + f] +=
                                        xv * dz[((n * g.OutHeight + oy) * g.OutWidth + ox) * filters + f];
                            }
                        }
        return dw;
    }
}
