using System.CommandLine;
using GpuCnn.Training;

namespace GpuCnn.Cli;

/// <summary>`gpucnn train`: parse, then hand over to <see cref="TrainingRun"/>.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var defaults = new TrainingOptions();
        var device = CommonOptions.Device();
        var model = CommonOptions.Model();
        var epochs = CommonOptions.AtLeast("--epochs", "Passes over the training images.", defaults.Epochs, 1);
        var batchSize = CommonOptions.AtLeast("--batch-size", "Images per mini-batch.", defaults.BatchSize, 1);
        var learningRate = new Option<float>("--lr") { Description = "Learning rate.", DefaultValueFactory = _ => defaults.LearningRate };
        learningRate.Validators.Add(r =>
        {
            float v = r.GetValueOrDefault<float>();
            if (!(v > 0) || !float.IsFinite(v)) r.AddError($"--lr must be a positive number, got {v}.");
        });
        var optimizer = new Option<string>("--optimizer") { Description = "adam or sgd (momentum 0.9).", DefaultValueFactory = _ => defaults.Optimizer }
            .AcceptOnlyFromAmong("adam", "sgd");
        var seed = new Option<int>("--seed") { Description = "Seed for initialisation, shuffling and dropout.", DefaultValueFactory = _ => defaults.Seed };
        var validationSplit = new Option<double>("--validation-split")
        {
            Description = "Fraction of the training images (the last ones) held out for validation.",
            DefaultValueFactory = _ => defaults.ValidationSplit,
        };
        validationSplit.Validators.Add(r =>
        {
            double v = r.GetValueOrDefault<double>();
            if (v is < 0 or >= 1 || double.IsNaN(v)) r.AddError($"--validation-split must be in [0, 1), got {v}.");
        });
        var trainLimit = new Option<int?>("--train-limit") { Description = "Use only the first N training images." };
        trainLimit.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is { } v && v < 2) r.AddError($"--train-limit must be at least 2, got {v}.");
        });
        var dataDir = CommonOptions.DataDir();
        var cacheDir = CommonOptions.CacheDir();

        var command = new Command("train", "Train a model on Fashion-MNIST and report test accuracy.")
        {
            device, model, epochs, batchSize, learningRate, optimizer, seed, validationSplit, trainLimit, dataDir, cacheDir,
        };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var options = new TrainingOptions
            {
                Model = parse.GetValue(model)!,
                Epochs = parse.GetValue(epochs),
                BatchSize = parse.GetValue(batchSize),
                LearningRate = parse.GetValue(learningRate),
                Optimizer = parse.GetValue(optimizer)!,
                Seed = parse.GetValue(seed),
                ValidationSplit = parse.GetValue(validationSplit),
                TrainLimit = parse.GetValue(trainLimit),
            };
            var run = new TrainingRun(options, CommonOptions.ParseDevice(parse.GetValue(device)!),
                CommonOptions.Data(parse.GetValue(dataDir), parse.GetValue(cacheDir)), Console.Out,
                liveProgress: !Console.IsOutputRedirected);
            run.Execute();
            return 0;
        }));
        return command;
    }
}
