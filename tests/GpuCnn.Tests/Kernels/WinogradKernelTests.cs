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
