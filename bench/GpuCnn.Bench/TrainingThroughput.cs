using System.Diagnostics;
using GpuCnn.Data;
using GpuCnn.Devices;
using GpuCnn.Models;
using GpuCnn.Training;

namespace GpuCnn.Bench;

/// <summary>End to end: training images per second of a model, through the trainer's own batch step.</summary>
public static class TrainingThroughput
{
    public static BenchResult Measure(ComputeDevice device, string modelName, int batchSize, int batches, bool profile = false,
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
            kernels.Run(() => trainer.TrainBatch(0));
            kernels.Print($"one {modelName} training step, batch {batchSize}");
        }
        int timed = (batches - 1) * batchSize;
        return new BenchResult($"{modelName} training step (end to end)", $"batch {batchSize}, {batches - 1} batches{(images is null ? "" : ", Fashion-MNIST")}",
            seconds * 1e3 / (batches - 1), "images/s", timed / seconds, null);
    }

    /// <summary>Random pixels and labels: the default, so the bench needs no data set.</summary>
    static ImageSet RandomImages(int count)
    {
        var random = new Random(3);
        var pixels = new byte[count * 28 * 28];
        random.NextBytes(pixels);
        return new ImageSet(pixels, Enumerable.Range(0, count).Select(_ => (byte)random.Next(10)).ToArray(), 28, 28);
    }
}
