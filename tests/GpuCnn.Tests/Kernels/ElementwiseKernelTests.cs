using GpuCnn.Devices;
using GpuCnn.Data;
using GpuCnn.Kernels;
using GpuCnn.Tensors;
using GpuCnn.Training;
using ILGPU;
using ILGPU.Runtime;

namespace GpuCnn.Tests.Kernels;

[Collection("devices")]
public sealed class ElementwiseKernelTests(TestDevices devices)
{
    /// <summary>ReLU both ways and the residual add, alone and with its ReLU, in groups of eight (64) and one by one (37).</summary>
    [Theory]
    [MemberData(nameof(TestDevices.Plans), MemberType = typeof(TestDevices))]
    public void ReluAndTheResidualAddMatchTheirDefinitions(string plan)
    {
        var device = devices[plan];
        foreach (int length in new[] { 64, 37 })
        {
            var y = TestData.Uniform(length, 1);
            var dy = TestData.Uniform(length, 2);
            using var ty = Tensor.Zeros(device, length);
            using var tdy = Tensor.Zeros(device, length);
            using var tdx = Tensor.Zeros(device, length);
            ty.CopyFrom(y);
            tdy.CopyFrom(dy);
            device.Kernels.ReluBackward(ty.View, tdy.View, tdx.View);
            Assert.Equal(y.Select((v, i) => v > 0 ? dy[i] : 0f), tdx.ToArray());
            device.Kernels.ReluForward(ty.View, tdx.View);
            Assert.Equal(y.Select(v => Math.Max(0f, v)), tdx.ToArray());
            device.Kernels.Add(ty.View, tdy.View, tdx.View);
            Assert.Equal(y.Select((v, i) => v + dy[i]), tdx.ToArray());
            device.Kernels.Add(ty.View, tdy.View, tdx.View, relu: true);
            Assert.Equal(y.Select((v, i) => Math.Max(0f, v + dy[i])), tdx.ToArray());
            Assert.Contains(0f, tdx.ToArray());
        }
    }

    /// <summary>
    /// Batch norm's fused forms give the bits of the passes they replace: the residual add and its
    /// ReLU inside the forward pass (a residual block's last batch norm), and the ReLU's mask
    /// recomputed from x, γ and β in the backward passes instead of read from the output. 12 rows of
    /// 16 channels; on the test plans' short chunks the sums run in several chunks.
    /// </summary>
    [Theory]
    [MemberData(nameof(TestDevices.Plans), MemberType = typeof(TestDevices))]
    public void BatchNormFusedPassesGiveTheBitsOfTheSeparateOnes(string plan)
    {
        var k = devices[plan].Kernels;
        const int Rows = 12, Channels = 16, Length = Rows * Channels;
        Tensor Filled(float[] values)
        {
            var t = Tensor.Zeros(devices[plan], values.Length);
            t.CopyFrom(values);
            return t;
        }
        using var x = Filled(TestData.Uniform(Length, 11, -1f, 1f));
        using var residual = Filled(TestData.Uniform(Length, 12, -1f, 1f));
        using var dy = Filled(TestData.Uniform(Length, 13, -1f, 1f));
        using var gamma = Filled(TestData.Uniform(Channels, 14, 0.5f, 1.5f));
        using var beta = Filled(TestData.Uniform(Channels, 15, -0.5f, 0.5f));
        using var statistics = Tensor.Zeros(devices[plan], 2 * Channels);
        using var movingMean = Tensor.Zeros(devices[plan], Channels);
        using var movingVariance = Tensor.Zeros(devices[plan], Channels);
        using var y = Tensor.Zeros(devices[plan], Length);
        using var fused = Tensor.Zeros(devices[plan], Length);
        using var separate = Tensor.Zeros(devices[plan], Length);
        using var masked = Tensor.Zeros(devices[plan], Length);
        var plain = new BatchNormShape { Rows = Rows, Channels = Channels, Momentum = 0.99f, Epsilon = 1e-3f };
        var withRelu = plain with { Relu = 1 };
        k.BatchNormStatistics(x.View, statistics.View, movingMean.View, movingVariance.View, plain);

        k.BatchNormForward(x.View, fused.View, gamma.View, beta.View, statistics.View, withRelu, residual.View);
        k.BatchNormForward(x.View, y.View, gamma.View, beta.View, statistics.View, plain);
        k.Add(y.View, residual.View, separate.View, relu: true);
        Assert.Equal(separate.ToArray(), fused.ToArray());
        Assert.Contains(0f, fused.ToArray());

        // BN with its ReLU: the mask from x, against the ReLU's backward pass on the output, then plain BN.
        k.BatchNormForward(x.View, y.View, gamma.View, beta.View, statistics.View, withRelu);
        using var dGamma = Tensor.Zeros(devices[plan], Channels);
        using var dBeta = Tensor.Zeros(devices[plan], Channels);
        using var dGammaSeparate = Tensor.Zeros(devices[plan], Channels);
        using var dBetaSeparate = Tensor.Zeros(devices[plan], Channels);
        k.BatchNormBackward(x.View, dy.View, fused.View, gamma.View, beta.View, statistics.View, dGamma.View, dBeta.View, withRelu, true);
        k.ReluBackward(y.View, dy.View, masked.View);
        k.BatchNormBackward(x.View, masked.View, separate.View, gamma.View, beta.View, statistics.View, dGammaSeparate.View,
            dBetaSeparate.View, plain, true);
        Assert.Equal(separate.ToArray(), fused.ToArray());
        Assert.Equal(dGammaSeparate.ToArray(), dGamma.ToArray());
        Assert.Equal(dBetaSeparate.ToArray(), dBeta.ToArray());
        Assert.Contains(0f, masked.ToArray());
    }

    [Theory]
    [MemberData(nameof(TestDevices.Plans), MemberType = typeof(TestDevices))]
    public void DropoutKeepsAboutOneMinusRateScaledAndBackwardUsesTheSameMask(string plan)
    {
        var device = devices[plan];
        const int Length = 20000;
        const float Rate = 0.25f;
        var x = TestData.Uniform(Length, 3, 0.5f, 1.5f);
        using var tx = Tensor.Zeros(device, Length);
        using var ty = Tensor.Zeros(device, Length);
        using var tdx = Tensor.Zeros(device, Length);
        tx.CopyFrom(x);
        device.Kernels.DropoutForward(tx.View, ty.View, Rate, 1234);
        var y = ty.ToArray();
        double kept = y.Count(v => v != 0) / (double)Length;
        Assert.InRange(kept, 0.74, 0.76);
        for (int i = 0; i < Length; i++)
            if (y[i] != 0) Assert.Equal(x[i] / (1 - Rate), y[i], 1e-5);
        device.Kernels.DropoutBackward(tx.View, tdx.View, Rate, 1234);
        var dx = tdx.ToArray();
        for (int i = 0; i < Length; i++) Assert.Equal(y[i] == 0, dx[i] == 0);
        device.Kernels.DropoutForward(tx.View, ty.View, Rate, 1235);
        Assert.NotEqual(y, ty.ToArray());
    }

    [Theory]
    [MemberData(nameof(TestDevices.Plans), MemberType = typeof(TestDevices))]
    public void DropoutMaskIsTheCpuPlansOnEveryPlan(string plan)
    {
        float[] Mask(ComputeDevice device)
        {
            using var tx = Tensor.Zeros(device, 999);
            using var ty = Tensor.Zeros(device, 999);
            tx.CopyFrom(Enumerable.Repeat(1f, 999).ToArray());
            device.Kernels.DropoutForward(tx.View, ty.View, 0.5f, 77);
            return ty.ToArray();
        }
        var cpu = Mask(devices.Cpu);
        Assert.Contains(0f, cpu);
        Assert.Equal(cpu, Mask(devices[plan]));
    }

    /// <summary>A data-parallel rank that holds elements 600.. of a batch draws the same mask for them as one process does.</summary>
    [Theory]
    [MemberData(nameof(TestDevices.Plans), MemberType = typeof(TestDevices))]
    public void DropoutOfASliceWithItsOffsetIsThatSliceOfTheWholeMask(string plan)
    {
        var device = devices[plan];
        var x = TestData.Uniform(999, 8, 0.5f, 1.5f);
        using var whole = Tensor.Zeros(device, 999);
        using var wholeOut = Tensor.Zeros(device, 999);
        using var slice = Tensor.Zeros(device, 399);
        using var sliceOut = Tensor.Zeros(device, 399);
        whole.CopyFrom(x);
        slice.CopyFrom(x[600..]);
        device.Kernels.DropoutForward(whole.View, wholeOut.View, 0.5f, 77);
        device.Kernels.DropoutForward(slice.View, sliceOut.View, 0.5f, 77, offset: 600);
        Assert.Equal(wholeOut.ToArray()[600..], sliceOut.ToArray());
        device.Kernels.DropoutBackward(slice.View, sliceOut.View, 0.5f, 77, offset: 600);
        Assert.Equal(wholeOut.ToArray()[600..], sliceOut.ToArray());
    }

    [Theory]
    [MemberData(nameof(TestDevices.Plans), MemberType = typeof(TestDevices))]
    public void SoftmaxCrossEntropyMatchesReference(string plan)
    {
        var device = devices[plan];
        const int Rows = 13, Classes = 10;
        var logits = TestData.Uniform(Rows * Classes, 5, -8, 8);
        logits[3] = 80f; // large logits must not overflow
        var labels = Enumerable.Range(0, Rows).Select(r => r * 7 % Classes).ToArray();
        using var loss = new SoftmaxCrossEntropy(device, Rows, Classes);
        using var tlogits = Tensor.Zeros(device, Rows, Classes);
        using var tlabels = device.Accelerator.Allocate1D<int>(labels);
        tlogits.CopyFrom(logits);
        using var totals = new LossTotals(device);
        totals.Reset();
        var gradient = loss.Forward(tlogits, tlabels.View, totals);
        var (mean, accuracy, rows) = totals.Read();
        Assert.Equal(Rows, rows);
        Assert.Equal(Reference.SoftmaxCrossEntropy(logits.ToDouble(), labels, Classes), mean, 4);
        var expectedGrad = new double[Rows * Classes];
        int correct = 0;
        for (int r = 0; r < Rows; r++)
        {
            var p = Reference.Softmax(logits.ToDouble(), r, Classes);
            for (int k = 0; k < Classes; k++) expectedGrad[r * Classes + k] = (p[k] - (k == labels[r] ? 1 : 0)) / Rows;
            if (Array.IndexOf(p, p.Max()) == labels[r]) correct++;
        }
        TestData.AssertClose(gradient.ToArray(), expectedGrad, 1e-5);
        Assert.Equal(correct / (double)Rows, accuracy, 6);
    }

    [Theory]
    [MemberData(nameof(TestDevices.Plans), MemberType = typeof(TestDevices))]
    public void AdamAndSgdFollowKerasFormulas(string plan)
    {
        var device = devices[plan];
        const int Length = 21;
        var p0 = TestData.Uniform(Length, 6);
        var g = TestData.Uniform(Length, 7);
        using var parameters = Tensor.Zeros(device, Length);
        using var gradients = Tensor.Zeros(device, Length);
        parameters.CopyFrom(p0);
        gradients.CopyFrom(g);
        using (var adam = new Adam(device, parameters, gradients, 0.01f))
        {
            adam.Step();
            adam.Step();
        }
        var expected = p0.ToDouble();
        var m = new double[Length];
        var v = new double[Length];
        for (int t = 1; t <= 2; t++)
        {
            double step = 0.01 * Math.Sqrt(1 - Math.Pow(0.999, t)) / (1 - Math.Pow(0.9, t));
            for (int i = 0; i < Length; i++)
            {
                m[i] = 0.9 * m[i] + 0.1 * g[i];
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
                expected[i] -= step * m[i] / (Math.Sqrt(v[i]) + 1e-7);
            }
        }
        TestData.AssertClose(parameters.ToArray(), expected, 1e-5);

        parameters.CopyFrom(p0);
        using (var sgd = new SgdMomentum(device, parameters, gradients, 0.1f))
        {
            sgd.Step();
            sgd.Step();
        }
        // velocity1 = -lr g; velocity2 = 0.9 velocity1 - lr g; p = p0 + velocity1 + velocity2.
        var sgdExpected = p0.Select((p, i) => p + -0.1 * g[i] + (0.9 * -0.1 * g[i] - 0.1 * g[i])).ToArray();
        TestData.AssertClose(parameters.ToArray(), sgdExpected, 1e-5);
    }

    [Theory]
    [MemberData(nameof(TestDevices.Plans), MemberType = typeof(TestDevices))]
    public void GatherBatchScalesAndAugmentsOnTheDevice(string plan)
    {
        var device = devices[plan];
        var pixels = new byte[3 * 784];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(i * 31 % 256);
        var labels = new byte[] { 4, 7, 1 };
        using var data = new DeviceDataset(device, new ImageSet(pixels, labels, 28, 28));
        using var feeder = new BatchFeeder(device, data, [2, 0, 1], 3);
        var x = feeder.Gather(0, Augmentation.None, 0).ToArray();
        for (int b = 0; b < 3; b++)
        {
            int image = new[] { 2, 0, 1 }[b];
            for (int p = 0; p < 784; p++) Assert.Equal(pixels[image * 784 + p] * (1f / 255f), x[b * 784 + p]);
        }
        var gathered = new int[3];
        feeder.Labels.SubView(0, 3).CopyToCPU(gathered);
        Assert.Equal(new[] { 1, 4, 7 }, gathered);

    }

    /// <summary>
    /// Shift and flip, pixel for pixel: each augmented image equals its source moved by (dy, dx)
    /// with zero fill, then mirrored when the draw says so, where the draw is the documented one,
    /// CounterRng.Hash(seed, position in the order): dy = bits mod 5 - 2, dx = bits / 5 mod 5 - 2,
    /// flip = the top bit. The reference moves whole rows and columns of a 2-D array, not the
    /// kernel's index arithmetic. Over 256 images every shift and both flips occur.
    /// </summary>
    [Theory]
    [MemberData(nameof(TestDevices.Plans), MemberType = typeof(TestDevices))]
    public void GatherBatchShiftsAndFlipsExactlyAsDrawn(string plan)
    {
        const int Images = 256, Side = 28, MaxShift = 2;
        const uint Seed = 99;
        var device = devices[plan];
        var random = new Random(5);
        var pixels = new byte[Images * Side * Side];
        random.NextBytes(pixels);
        var order = Enumerable.Range(0, Images).Reverse().ToArray();
        using var data = new DeviceDataset(device, new ImageSet(pixels, new byte[Images], Side, Side));
        using var feeder = new BatchFeeder(device, data, order, Images);
        var augmented = feeder.Gather(0, new Augmentation(MaxShift, true), Seed).ToArray();
        var shifts = new HashSet<(int, int)>();
        var flips = new HashSet<bool>();
        for (int b = 0; b < Images; b++)
        {
            uint bits = CounterRng.Hash(Seed, (uint)b);
            int dy = (int)(bits % 5) - MaxShift, dx = (int)(bits / 5 % 5) - MaxShift;
            bool flip = bits >> 31 != 0;
            shifts.Add((dy, dx));
            flips.Add(flip);
            // Moved by (dy, dx) with zero fill, then mirrored.
            var shifted = new float[Side, Side];
            for (int y = 0; y < Side; y++)
                for (int x = 0; x < Side; x++)
                    if (y - dy is >= 0 and < Side && x - dx is >= 0 and < Side)
                        shifted[y, x] = pixels[(order[b] * Side + y - dy) * Side + x - dx] * (1f / 255f);
            var expected = new float[Side * Side];
            for (int y = 0; y < Side; y++)
                for (int x = 0; x < Side; x++) expected[y * Side + x] = shifted[y, flip ? Side - 1 - x : x];
            Assert.Equal(expected, augmented.Skip(b * Side * Side).Take(Side * Side).ToArray());
        }
        Assert.Equal(25, shifts.Count);
        Assert.Equal(2, flips.Count);
    }
}
