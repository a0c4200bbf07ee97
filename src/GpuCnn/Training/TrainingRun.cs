using GpuCnn.Data;
using GpuCnn.Devices;
using GpuCnn.Models;
using GpuCnn.Persistence;
using GpuCnn.Reporting;

namespace GpuCnn.Training;

/// <summary>The result of a training run: per-epoch history and the test evaluation.</summary>
public sealed record TrainingResult(string Model, int Parameters, IReadOnlyList<EpochMetrics> History, Evaluation Test,
    bool StoppedEarly, ClassificationMetrics Metrics, string RunFolder);

/// <summary>
/// Wires one `gpucnn train`: device, data, model, optimizer, loss, feeders, trainer, observers,
/// and the run folder. With a checkpoint to resume from, it restores parameters, optimizer state
/// and history first and continues with the next epoch. Owns everything it creates.
/// In a data-parallel run every rank runs this with the same <paramref name="parallel"/>: each opens
/// its own device (GPU number local rank modulo the count), takes its share of every batch and of
/// the evaluations, and starts from rank 0's weights; only rank 0 has a run folder (the others
/// pass null) and output to show.
/// </summary>
public sealed class TrainingRun(TrainingOptions options, DeviceKind deviceKind, DataOptions dataOptions, TextWriter output,
    bool liveProgress, RunFolder? folder, string? resumeFrom = null, Distributed.DataParallel? parallel = null)
{
    /// <param name="extraObservers">Further observers, told after the run folder has checkpointed each epoch.</param>
    public TrainingResult Execute(params ITrainingObserver[] extraObservers)
    {
        options = options with { Ranks = parallel?.Size ?? 1 };
        using var device = ComputeDevice.Open(deviceKind, ordinal: parallel?.LocalRank ?? 0);
        output.WriteLine($"Device: {device.Info} - launch plan {device.Plan.Name}");
        if (parallel is not null)
        {
            int fewest = options.BatchSize / parallel.Size, most = (options.BatchSize + parallel.Size - 1) / parallel.Size;
            output.WriteLine($"Data-parallel on {parallel.Size} MPI ranks: each takes {(fewest == most ? $"{most}" : $"{fewest}-{most}")} rows of every batch of {options.BatchSize}.");
            var ranks = parallel.Describe(device.Info.ToString());
            for (int rank = 0; rank < ranks.Count; rank++) output.WriteLine($"  rank {rank}: {ranks[rank]}");
        }
        var data = LoadData();
        output.WriteLine($"Data: {data.Source}");
        var trainSet = options.TrainLimit is { } limit ? data.Train.Take(limit) : data.Train;
        if (!data.IsFashionMnist)
            output.WriteLine($"Classes: {string.Join(", ", data.ClassNames)}; pictures {string.Join("x", trainSet.Shape)}.");
        int validationCount = (int)Math.Floor(trainSet.Count * options.ValidationSplit);
        int trainCount = trainSet.Count - validationCount;
        if (options.BatchSize > trainCount)
            throw new ArgumentException($"--batch-size {options.BatchSize} is larger than the {trainCount} training images.");
        output.WriteLine($"Training on {trainCount} images, validating on {validationCount}, testing on {data.Test.Count}.");

        using var trainData = new DeviceDataset(device, trainSet);
        using var testData = new DeviceDataset(device, data.Test);
        using var model = BuildModel(device, trainSet.Shape, data.Classes);
        using var optimizer = Optimizer.Create(options.Optimizer, device, model.ParameterBuffer, model.GradientBuffer, options.LearningRate);
        using var loss = new SoftmaxCrossEntropy(device, options.BatchSize, data.Classes, parallel);
        using var trainFeeder = new BatchFeeder(device, trainData, Enumerable.Range(0, trainCount).ToArray(), options.BatchSize, parallel);
        using var validationFeeder = validationCount > 0
            ? new BatchFeeder(device, trainData, Enumerable.Range(trainCount, validationCount).ToArray(), options.BatchSize, parallel)
            : null;
        using var testFeeder = new BatchFeeder(device, testData, Enumerable.Range(0, data.Test.Count).ToArray(), options.BatchSize, parallel);

        var trainer = new Trainer(model, optimizer, loss, trainFeeder, validationFeeder, options, parallel);
        if (resumeFrom is not null)
        {
            var header = TrainingState.Restore(resumeFrom, model, optimizer);
            trainer.History.AddRange(header.History);
            output.WriteLine($"Resumed from {resumeFrom} after epoch {header.History.Count}." +
                             (trainer.IsComplete ? " Training is complete; writing the test evaluation, model and reports." : ""));
        }
        parallel?.BroadcastFromRoot(model, optimizer);
        // Model files name their classes only for your own pictures: predict then reads pictures as training did.
        folder?.Start(model, optimizer, options, data.IsFashionMnist ? null : data.ClassNames);
        trainer.Observe(new ConsoleProgress(output, options.Epochs, liveProgress));
        if (folder is not null) trainer.Observe(folder);
        foreach (var observer in extraObservers) trainer.Observe(observer);
        trainer.Run();
        if (trainer.StoppedEarly) output.WriteLine($"Early stopping: validation loss did not improve for {options.EarlyStoppingPatience} epochs.");
        var test = Evaluator.Evaluate(model, testFeeder, loss);
        output.WriteLine($"Test accuracy: {test.Accuracy:P2} - test loss: {test.Loss:F4} ({data.Test.Count} images)");
        var metrics = folder?.Finish(test) ?? new ClassificationMetrics(test.Predictions, test.Labels, data.ClassNames);
        output.WriteLine();
        output.Write(metrics.Report());
        if (folder is not null) output.WriteLine($"Run folder: {folder.Path}");
        return new TrainingResult(model.Name, model.TrainableCount + model.NonTrainableCount, trainer.History, test,
            trainer.StoppedEarly, metrics, folder?.Path ?? "");
    }

    /// <summary>The data; in a data-parallel run rank 0 loads (and if need be fetches) it first, so that ranks sharing a cache do not fetch it together.</summary>
    ImageDataset LoadData()
    {
        ImageDataset Load() => new FashionMnistStore(dataOptions, line => output.WriteLine("data: " + line)).Load();
        if (parallel is null) return Load();
        ImageDataset? data = parallel.IsRoot ? Load() : null;
        parallel.Barrier();
        return data ?? Load();
    }

    /// <summary>
    /// The zoo model for the data's picture shape and class count, or the architecture given
    /// (which must take that shape and give one output per class); a mismatch is one clear line.
    /// </summary>
    Sequential BuildModel(ComputeDevice device, int[] shape, int classes)
    {
        var model = options.Architecture is { } architecture ? Sequential.FromArchitecture(architecture) : ModelZoo.Create(options.Model, shape, classes);
        try
        {
            if (!model.InputShape.SequenceEqual(shape))
                throw new ArgumentException($"the architecture takes {string.Join("x", model.InputShape)} pictures but the data's are {string.Join("x", shape)}.");
            model.Build(device, options.BatchSize, options.Seed);
            if (model.OutputShape[^1] != classes)
                throw new ArgumentException($"it gives {model.OutputShape[^1]} outputs but the data has {classes} classes; end with Dense({classes}).");
            return model;
        }
        catch (ArgumentException e)
        {
            model.Dispose();
            throw new ArgumentException(options.Architecture is null
                ? $"model '{options.Model}' cannot take {string.Join("x", shape)} pictures: {e.Message} Choose a larger --image-size or another --model."
                : $"model '{model.Name}': {e.Message}");
        }
    }
}
