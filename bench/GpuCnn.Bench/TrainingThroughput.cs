using System.Diagnostics;
using GpuCnn.Data;
using GpuCnn.Devices;
using GpuCnn.Layers;
using GpuCnn.Models;
using GpuCnn.Training;

namespace GpuCnn.Bench;

/// <summary>
/// End to end: training images per second of a model, through the trainer's own batch step, and
/// the effective GFLOP/s that makes: the FLOP of its GEMM passes per image (forward, weight
/// gradient, and input gradient where one is computed) × images/s, as a share of the FMA peak.
/// </summary>
public static class TrainingThroughput
{
    /// <summary>Steps `--profile` times, launch by launch, for each kernel's fastest and median step.</summary>
    public const int ProfiledSteps = 9;

    public static BenchResult Measure(ComputeDevice device, Ceiling ceiling, string modelName, int batchSize, int batches, bool profile = false,
        ImageSet? images = null)
    {
        int count = batchSize * batches;
        using var data = new DeviceDataset(device, images?.Take(count) ?? RandomImages(count));
        var options = new Hyperparameters { BatchSize = batchSize };
        using var model = ModelZoo.Create(modelName).Build(device, batchSize, options.Seed);
        using var optimizer = Optimizer.Create("adam", device, model.ParameterBuffer, model.GradientBuffer, options.LearningRate);
        using var loss = new SoftmaxCrossEntropy(device, batchSize, ModelZoo.Classes);
        using var feeder = new BatchFeeder(device, data, Enumerable.Range(0, count).ToArray(), batchSize);
        using var trainer = new Trainer(model, optimizer, loss, feeder, null, options);
        trainer.TrainBatch(0);
        device.Synchronize();
        var clock = Stopwatch.StartNew();
        for (int b = 1; b < batches; b++) trainer.TrainBatch(b);
        device.Synchronize();
        double seconds = clock.Elapsed.TotalSeconds;
        if (profile)
        {
            var kernels = new KernelProfile(device);
            for (int step = 0; step < ProfiledSteps; step++) kernels.Run(() => trainer.TrainBatch(step % batches));
            kernels.Print($"one {modelName} training step, batch {batchSize}");
        }
        int timed = (batches - 1) * batchSize;
        double gflops = StepGemmFlops(model.Layers) / batchSize * timed / seconds / 1e9;
        return new BenchResult($"{modelName} training step (end to end)", $"batch {batchSize}, {batches - 1} batches{(images is null ? "" : ", Fashion-MNIST")}",
            seconds * 1e3 / (batches - 1), "images/s", timed / seconds, null, PeakFraction: gflops / ceiling.FmaGflops, EffectiveGflops: gflops);
    }

    /// <summary>
    /// FLOP of one training step's GEMM passes at the batch of the layers' last forward pass; a
    /// residual block's are its inner convolutions'.
    /// </summary>
    public static double StepGemmFlops(IEnumerable<Layer> layers) => layers.Sum(layer => layer switch
    {
        IGemmLayer gemm => (double)gemm.GemmFlops * (layer.NeedsInputGradient ? 3 : 2),
        ResidualBlock block => StepGemmFlops(block.MainPath.Concat(block.Shortcut)),
        _ => 0,
    });

    /// <summary>Random pixels and labels: the default, so the bench needs no data set.</summary>
    static ImageSet RandomImages(int count)
    {
        var random = new Random(3);
        var pixels = new byte[count * 28 * 28];
        random.NextBytes(pixels);
        return new ImageSet(pixels, Enumerable.Range(0, count).Select(_ => (byte)random.Next(10)).ToArray(), 28, 28);
    }
}
