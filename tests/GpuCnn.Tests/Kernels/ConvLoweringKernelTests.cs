using GpuCnn.Devices;
using GpuCnn.Kernels;
using GpuCnn.Tensors;

namespace GpuCnn.Tests.Kernels;

/// <summary>
/// The implicit GEMM's helpers, element for element against plain loops: the padded copy and the
/// flipped kernel; and the weight gradient read unpadded against the same over the padded copy.
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

    public static TheoryData<string, int> PlansAndRegisterTiles()
    {
        var data = new TheoryData<string, int>();
        foreach (var plan in TestDevices.PlanNames)
            foreach (int tile in KernelLauncher.Tiles)
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
    [MemberData(nameof(PlansAndRegisterTiles))]
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
}
