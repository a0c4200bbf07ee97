using GpuCnn.Data;
using GpuCnn.Kernels;
using GpuCnn.Models;
using GpuCnn.Tensors;
using GpuCnn.Training;

namespace GpuCnn.Tests.Training;

/// <summary>The modern recipe's pieces against references written from their papers' and PyTorch's definitions, on every plan.</summary>
[Collection("devices")]
public sealed class RecipeTests(TestDevices devices)
{
    const int Length = 21;

    /// <summary>Decay on every other element, as a mask that leaves biases out would.</summary>
    static float[] Mask() => [.. Enumerable.Range(0, Length).Select(i => i % 2 == 0 ? 1f : 0f)];

    [Theory]
    [MemberData(nameof(TestDevices.Plans), MemberType = typeof(TestDevices))]
    public void AdamWDecaysTheMaskedWeightsApartFromAdamsStep(string plan)
    {
        var device = devices[plan];
        var p0 = TestData.Uniform(Length, 6);
        var g = TestData.Uniform(Length, 7);
        using var parameters = Tensor.Zeros(device, Length);
        using var gradients = Tensor.Zeros(device, Length);
        parameters.CopyFrom(p0);
        gradients.CopyFrom(g);
        float[] rates = [0.01f, 0.004f];
        using (var adamw = (Adam)Optimizer.Create("adamw", device, parameters, gradients, rates[0], 0.05f, Mask()))
        {
            adamw.Step();
            adamw.LearningRate = rates[1];
            adamw.Step();
        }
        var expected = p0.ToDouble();
        var m = new double[Length];
        var v = new double[Length];
        for (int t = 1; t <= 2; t++)
        {
            double lr = rates[t - 1], step = lr * Math.Sqrt(1 - Math.Pow(0.999, t)) / (1 - Math.Pow(0.9, t));
            for (int i = 0; i < Length; i++)
            {
                m[i] = 0.9 * m[i] + 0.1 * g[i];
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
                expected[i] -= lr * 0.05 * Mask()[i] * expected[i];
                expected[i] -= step * m[i] / (Math.Sqrt(v[i]) + 1e-7);
            }
        }
        TestData.AssertClose(parameters.ToArray(), expected, 1e-5);
    }

    [Theory]
    [MemberData(nameof(TestDevices.Plans), MemberType = typeof(TestDevices))]
    public void SgdNesterovFollowsPyTorchsFormulaWithL2OnTheMaskedWeights(string plan)
    {
        var device = devices[plan];
        var p0 = TestData.Uniform(Length, 8);
        var g = TestData.Uniform(Length, 9);
        using var parameters = Tensor.Zeros(device, Length);
        using var gradients = Tensor.Zeros(device, Length);
        parameters.CopyFrom(p0);
        gradients.CopyFrom(g);
        using (var sgd = Optimizer.Create("sgd-nesterov", device, parameters, gradients, 0.1f, 5e-4f, Mask()))
        {
            sgd.Step();
            sgd.Step();
        }
        var expected = p0.ToDouble();
        var velocity = new double[Length];
        for (int t = 0; t < 2; t++)
            for (int i = 0; i < Length; i++)
            {
                double d = g[i] + 5e-4 * Mask()[i] * expected[i];
                velocity[i] = 0.9 * velocity[i] + d;
                expected[i] -= 0.1 * (d + 0.9 * velocity[i]);
            }
        TestData.AssertClose(parameters.ToArray(), expected, 1e-5);
    }

    [Fact]
    public void WeightDecayIsRefusedForOptimizersWithoutIt()
    {
        var device = devices.Cpu;
        using var parameters = Tensor.Zeros(device, Length);
        var e = Assert.Throws<ArgumentException>(() => Optimizer.Create("adam", device, parameters, parameters, 0.1f, 0.01f));
        Messages.Says(e.Message, "weight decay 0.01 needs adamw or sgd-nesterov");
    }

    [Fact]
    public void TheDecayMaskCoversKernelsButNotBiasesOrBatchNorm()
    {
        using var model = ModelZoo.Create("seed-bn").Build(devices.Cpu, 2, 1);
        var mask = model.ParameterMask(p => p.Name.EndsWith("/kernel", StringComparison.Ordinal));
        var values = Enumerable.Range(0, mask.Length).Select(i => (float)i).ToArray();
        model.ParameterBuffer.CopyFrom(values);
        foreach (var p in model.TrainableParameters)
        {
            // Each parameter's slot, found through its own view of the flat buffer.
            int offset = (int)p.Value.ToArray()[0];
            bool decays = p.Name.EndsWith("/kernel", StringComparison.Ordinal);
            Assert.All(mask.AsSpan(offset, p.Length).ToArray(), m => Assert.Equal(decays ? 1f : 0f, m));
        }
        Assert.Equal(model.TrainableParameters.Where(p => p.Name.EndsWith("/kernel")).Sum(p => p.Length), (int)mask.Sum());
    }

    /// <summary>Label smoothing: the loss is the cross-entropy against (1 - s)·onehot + s/K, and the gradient is its derivative (finite differences).</summary>
    [Theory]
    [MemberData(nameof(TestDevices.Plans), MemberType = typeof(TestDevices))]
    public void LabelSmoothingsLossAndGradientMatchTheirDefinition(string plan)
    {
        var device = devices[plan];
        const int Rows = 5, Classes = 7;
        const float S = 0.1f;
        var logits = TestData.Uniform(Rows * Classes, 12, -3, 3);
        int[] labels = [0, 3, 6, 2, 2];
        double Loss(double[] z)
        {
            double total = 0;
            for (int r = 0; r < Rows; r++)
            {
                double max = Enumerable.Range(0, Classes).Max(k => z[r * Classes + k]);
                double logSum = Math.Log(Enumerable.Range(0, Classes).Sum(k => Math.Exp(z[r * Classes + k] - max))) + max;
                for (int k = 0; k < Classes; k++)
                    total -= ((k == labels[r] ? 1 - S : 0) + S / (double)Classes) * (z[r * Classes + k] - logSum);
            }
            return total / Rows;
        }
        using var loss = new SoftmaxCrossEntropy(device, Rows, Classes);
        using var totals = new LossTotals(device);
        using var tlogits = Tensor.Zeros(device, Rows, Classes);
        using var tlabels = Tensor<int>.Upload(device, labels, [Rows], "labels");
        tlogits.CopyFrom(logits);
        totals.Reset();
        var gradient = loss.Forward(tlogits, tlabels.View, totals, smoothing: S).ToArray();
        var z = logits.ToDouble();
        Assert.Equal(Loss(z), totals.Read().Loss, 4);
        var numeric = new double[z.Length];
        for (int i = 0; i < z.Length; i++)
        {
            double keep = z[i];
            z[i] = keep + 1e-4;
            double up = Loss(z);
            z[i] = keep - 1e-4;
            numeric[i] = (up - Loss(z)) / 2e-4;
            z[i] = keep;
        }
        TestData.AssertClose(gradient, numeric, 1e-4);
    }

    /// <summary>PyTorch's OneCycleLR (cos anneal, div 25, final div 1e4), step by step, written from its definition.</summary>
    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    public void OneCyclesRateAtEachStepIsPyTorchs(double warmupEpochs)
    {
        var h = new Hyperparameters { LearningRate = 0.4f, Epochs = 4, Schedule = LearningRateSchedule.OneCycle, WarmupEpochs = warmupEpochs };
        const int Batches = 10;
        int total = h.Epochs * Batches;
        double peak = h.LearningRate, initial = peak / 25, minimum = initial / 1e4;
        double phaseEnd = (warmupEpochs > 0 ? warmupEpochs * Batches : Math.Round(0.3 * total)) - 1;
        static double Cos(double start, double end, double pct) => end + (start - end) / 2 * (Math.Cos(Math.PI * pct) + 1);
        for (int step = 0; step < total; step++)
        {
            double expected = step <= phaseEnd ? Cos(initial, peak, step / phaseEnd) : Cos(peak, minimum, (step - phaseEnd) / (total - 1 - phaseEnd));
            Assert.Equal((float)expected, h.LearningRateAt(step / Batches, step % Batches, Batches));
        }
        Assert.Equal((float)initial, h.LearningRateAt(0, 0, Batches));
        Assert.Equal((float)minimum, h.LearningRateAt(h.Epochs - 1, Batches - 1, Batches));
    }

    [Fact]
    public void WarmUpRisesLinearlyPerBatchAndLeavesPerEpochSchedulesAsTheyWere()
    {
        var warm = new Hyperparameters { LearningRate = 0.1f, Epochs = 10, Schedule = LearningRateSchedule.WarmupCosine, WarmupEpochs = 2 };
        Assert.Equal((float)(0.1f * 1.0 / 20), warm.LearningRateAt(0, 0, 10));
        Assert.Equal((float)(0.1f * 20.0 / 20), warm.LearningRateAt(1, 9, 10));
        Assert.Equal((float)(0.1 * 0.5 * (1 + Math.Cos(Math.PI * 40 / 80))), warm.LearningRateAt(6, 0, 10));
        foreach (var schedule in new[] { LearningRateSchedule.Constant, LearningRateSchedule.Step, LearningRateSchedule.Cosine })
        {
            var h = new Hyperparameters { Schedule = schedule, Epochs = 10 };
            for (int epoch = 0; epoch < 10; epoch++)
                for (int batch = 0; batch < 7; batch++)
                    Assert.Equal(h.LearningRateAt(epoch), h.LearningRateAt(epoch, batch, 7));
        }
        var constantWarm = new Hyperparameters { LearningRate = 0.1f, WarmupEpochs = 1 };
        Assert.Equal((float)(0.1f * 3.0 / 10), constantWarm.LearningRateAt(0, 2, 10));
        Assert.Equal(0.1f, constantWarm.LearningRateAt(1, 0, 10));
    }

    /// <summary>
    /// Random erasing, pixel for pixel: each image is its source, scaled, with the rectangle the
    /// documented integer draw picks zeroed (DataKernels.Erase), written here from the description.
    /// </summary>
    [Theory]
    [MemberData(nameof(TestDevices.Plans), MemberType = typeof(TestDevices))]
    public void RandomErasingZeroesTheDocumentedRectangle(string plan)
    {
        const int Images = 256, Side = 28;
        const uint Seed = 17;
        var device = devices[plan];
        var pixels = new byte[Images * Side * Side];
        new Random(3).NextBytes(pixels);
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)Math.Max(1, (int)pixels[i]);
        using var data = new DeviceDataset(device, new ImageSet(pixels, new byte[Images], Side, Side));
        using var feeder = new BatchFeeder(device, data, [.. Enumerable.Range(0, Images)], Images);
        var augmentation = new Augmentation(EraseProbability: 0.5);
        var erased = feeder.Gather(0, augmentation, Seed).ToArray();
        int count = 0;
        for (int b = 0; b < Images; b++)
        {
            var expected = pixels.Skip(b * Side * Side).Take(Side * Side).Select(v => v * (1f / 255f)).ToArray();
            uint Word(uint k) => CounterRng.Hash(Seed ^ 0x5BD1E995u, (uint)b * 64u + k);
            if (Word(0) % 65536 < augmentation.EraseChance)
            {
                int area = Side * Side, fewest = area * 2 / 100, most = area * 33 / 100;
                for (uint t = 0; t < 10; t++)
                {
                    int a = fewest + (int)(Word(4 * t + 1) % (uint)(most - fewest + 1));
                    int h = 1 + (int)(Word(4 * t + 2) % Side), w = a / h;
                    if (w < 1 || w > Side || (h == Side && w == Side) || 10 * h < 3 * w || 10 * h > 33 * w) continue;
                    int top = (int)(Word(4 * t + 3) % (uint)(Side - h + 1)), left = (int)(Word(4 * t + 4) % (uint)(Side - w + 1));
                    for (int y = top; y < top + h; y++)
                        for (int x = left; x < left + w; x++) expected[y * Side + x] = 0f;
                    count++;
                    break;
                }
            }
            Assert.Equal(expected, erased.Skip(b * Side * Side).Take(Side * Side).ToArray());
        }
        Assert.InRange(count, 96, 160);
    }

    /// <summary>Flip TTA: the mean of the logits of each image and of its mirror, against two separate predictions made on the host's mirrored pictures.</summary>
    [Fact]
    public void FlipTestTimeAugmentationAveragesTwoSeparatePredictions()
    {
        var device = devices.Cpu;
        var images = SyntheticData.Images(40, 4);
        var mirrored = new byte[images.Pixels.Length];
        for (int i = 0; i < images.Count; i++)
            for (int y = 0; y < 28; y++)
                for (int x = 0; x < 28; x++) mirrored[(i * 28 + y) * 28 + x] = images.Pixels[(i * 28 + y) * 28 + 27 - x];
        var network = new Sequential("tta", [28, 28, 1],
            [new GpuCnn.Layers.Conv2D(8, 3, GpuCnn.Layers.Activation.Relu), new GpuCnn.Layers.MaxPool2D(2), new GpuCnn.Layers.Flatten(), new GpuCnn.Layers.Dense(10)]);
        using var model = GpuCnn.Model.Compile(network, device, new Hyperparameters { BatchSize = 16 });
        float[] Logits(byte[] pixels) => model.PredictLogits([.. pixels.Select(v => v * (1f / 255f))]);
        var plain = Logits(images.Pixels);
        var flipped = Logits(mirrored);
        var averaged = plain.Select((v, i) => 0.5f * (v + flipped[i])).ToArray();

        var probabilities = model.Predict(images, testTimeFlip: true);
        for (int i = 0; i < images.Count; i++)
        {
            var row = averaged.AsSpan(i * 10, 10).ToArray();
            double max = row.Max(), sum = row.Sum(v => Math.Exp(v - max));
            for (int k = 0; k < 10; k++) Assert.Equal(Math.Exp(row[k] - max) / sum, probabilities[i * 10 + k], 5);
        }
        var evaluation = model.Evaluate(images, testTimeFlip: true);
        int[] predicted = [.. Enumerable.Range(0, images.Count).Select(i => Array.IndexOf(averaged, averaged.Skip(i * 10).Take(10).Max(), i * 10) - i * 10)];
        Assert.Equal(predicted, evaluation.Predictions);
        Assert.NotEqual(model.Evaluate(images, testTimeFlip: false).Loss, evaluation.Loss);
    }
}
