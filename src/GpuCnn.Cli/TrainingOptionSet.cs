using System.CommandLine;
using GpuCnn.Training;

namespace GpuCnn.Cli;

/// <summary>
/// The training budget and schedule options `train` and `compare` share (epochs, batch size,
/// optimizer, learning rate and schedule, validation, augmentation, early stopping, PreciseBN),
/// with their validation, and how they fill <see cref="TrainingOptions"/>. The two commands
/// differ only in defaults.
/// </summary>
public sealed class TrainingOptionSet
{
    readonly Option<int> epochs, batchSize, shift, recalibrate;
    readonly Option<float> learningRate;
    readonly Option<string> optimizer, schedule;
    readonly Option<double> validationSplit;
    readonly Option<int?> patience;
    readonly Option<string> trainLimit;
    readonly Option<bool> flip;

    /// <param name="defaults">The defaults shown and used (train: the Keras run; compare: a shorter budget).</param>
    public TrainingOptionSet(TrainingOptions defaults)
    {
        epochs = CommonOptions.AtLeast("--epochs", "Passes over the training images.", defaults.Epochs, 1);
        batchSize = CommonOptions.AtLeast("--batch-size", "Images per mini-batch.", defaults.BatchSize, 1);
        learningRate = new Option<float>("--lr") { Description = "Learning rate.", DefaultValueFactory = _ => defaults.LearningRate };
        learningRate.Validators.Add(r =>
        {
            float v = r.GetValueOrDefault<float>();
            if (!(v > 0) || !float.IsFinite(v)) r.AddError($"--lr must be a positive number, got {v}.");
        });
        optimizer = new Option<string>("--optimizer") { Description = "adam or sgd (momentum 0.9).", DefaultValueFactory = _ => defaults.Optimizer }
            .AcceptOnlyFromAmong("adam", "sgd");
        validationSplit = new Option<double>("--validation-split")
        {
            Description = "Fraction of the training images (the last ones) held out for validation.",
            DefaultValueFactory = _ => defaults.ValidationSplit,
        };
        validationSplit.Validators.Add(r =>
        {
            double v = r.GetValueOrDefault<double>();
            if (v is < 0 or >= 1 || double.IsNaN(v)) r.AddError($"--validation-split must be in [0, 1), got {v}.");
        });
        trainLimit = new Option<string>("--train-limit")
        {
            Description = "Use only the first N training images ('all': every one).",
            DefaultValueFactory = _ => defaults.TrainLimit?.ToString() ?? "all",
        };
        trainLimit.Validators.Add(r =>
        {
            if (TrainLimitProblem(r.GetValueOrDefault<string>()!) is { } problem) r.AddError(problem);
        });
        patience = new Option<int?>("--early-stopping") { Description = "Stop when validation loss has not improved for this many epochs." };
        patience.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is { } v && v < 1) r.AddError($"--early-stopping must be at least 1, got {v}.");
        });
        schedule = new Option<string>("--lr-schedule")
        {
            Description = "constant, step (halve every 5 epochs) or cosine (decay to 0 over the epochs).",
            DefaultValueFactory = _ => defaults.Schedule.ToString().ToLowerInvariant(),
        }.AcceptOnlyFromAmong("constant", "step", "cosine");
        shift = new Option<int>("--augment-shift") { Description = "Shift each training image randomly by up to N pixels (0-4).", DefaultValueFactory = _ => defaults.Augmentation.MaxShift };
        shift.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 0 or > 4) r.AddError($"--augment-shift must be between 0 and 4, got {r.GetValueOrDefault<int>()}.");
        });
        flip = new Option<bool>("--augment-flip") { Description = "Flip training images horizontally at random." };
        recalibrate = new Option<int>("--bn-recalibrate")
        {
            Description = "PreciseBN: at each epoch's end, recompute batch norm's moving averages over this many training batches " +
                          "(equal weights, inference mode) before validating and checkpointing; 0 keeps Keras's momentum averages. " +
                          "Models without batch norm ignore it.",
            DefaultValueFactory = _ => defaults.BatchNormRecalibration,
        };
        recalibrate.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 0) r.AddError($"--bn-recalibrate must be 0 or more batches, got {r.GetValueOrDefault<int>()}.");
        });
    }

    /// <summary>Why a --train-limit value is refused: it takes a number of images (at least 2) or 'all'.</summary>
    static string? TrainLimitProblem(string text) =>
        text == "all" ? null
        : !int.TryParse(text, out int v) ? $"--train-limit takes a number of images or 'all', got '{text}'."
        : v < 2 ? $"--train-limit must be at least 2, got {v}." : null;

    public IEnumerable<Option> All => [epochs, batchSize, learningRate, optimizer, validationSplit, trainLimit, patience, schedule, shift, flip, recalibrate];

    /// <summary><paramref name="options"/> with every shared setting taken from the command line.</summary>
    public TrainingOptions Read(ParseResult parse, TrainingOptions options) => options with
    {
        Epochs = parse.GetValue(epochs),
        BatchSize = parse.GetValue(batchSize),
        LearningRate = parse.GetValue(learningRate),
        Optimizer = parse.GetValue(optimizer)!,
        ValidationSplit = parse.GetValue(validationSplit),
        TrainLimit = parse.GetValue(trainLimit) is "all" ? null : int.Parse(parse.GetValue(trainLimit)!),
        EarlyStoppingPatience = parse.GetValue(patience),
        Schedule = Enum.Parse<LearningRateSchedule>(parse.GetValue(schedule)!, ignoreCase: true),
        Augmentation = new Augmentation(parse.GetValue(shift), parse.GetValue(flip)),
        BatchNormRecalibration = parse.GetValue(recalibrate),
    };
}
