using System.CommandLine;
using System.Globalization;
using GpuCnn.Persistence;
using GpuCnn.Training;

namespace GpuCnn.Cli;

/// <summary>
/// The training budget and schedule options `train` and `compare` share (epochs, batch size,
/// optimizer, learning rate and schedule, validation, augmentation, early stopping, PreciseBN,
/// the weight average, the first N training images), how they fill <see cref="Hyperparameters"/>, and which of them
/// a resumed run's checkpoint contradicts. The two commands differ only in defaults.
/// </summary>
public sealed class TrainingOptionSet
{
    readonly Option<int> epochs, batchSize, shift, recalibrate;
    readonly Option<double> learningRate, validationSplit, weightDecay, labelSmoothing, warmup, erase, ema;
    readonly Option<bool> decayAll, testTimeFlip, emaWarmup;
    readonly Option<string> optimizer, schedule;
    readonly Option<int?> patience;
    readonly Option<string> trainLimit;
    readonly Option<bool> flip;

    /// <param name="defaults">The defaults shown and used (train: the Keras run; compare: a shorter budget).</param>
    /// <param name="defaultTrainLimit">The first N training images used by default (null: all).</param>
    public TrainingOptionSet(Hyperparameters defaults, int? defaultTrainLimit = null)
    {
        epochs = CommonOptions.Int("--epochs", "Passes over the training images.", defaults.Epochs, 1, 100_000);
        batchSize = CommonOptions.Int("--batch-size", "Images per mini-batch.", defaults.BatchSize, 1, 65_536);
        learningRate = CommonOptions.Number("--lr", "Learning rate.", defaults.LearningRate, v => v is > 0 and <= 100, "a number above 0 and at most 100");
        optimizer = CommonOptions.OneOf("--optimizer", "adam, sgd (momentum 0.9), adamw (decoupled weight decay) or sgd-nesterov (Nesterov momentum 0.9, L2 weight decay).",
            defaults.Optimizer, Optimizer.Names);
        weightDecay = CommonOptions.Number("--weight-decay", "λ of adamw's decoupled decay or sgd-nesterov's L2 term; biases and batch norm are left out unless --decay-all.",
            defaults.WeightDecay, v => v is >= 0 and <= 1, "a number from 0 to 1");
        decayAll = new Option<bool>("--decay-all") { Description = "Decay biases and batch norm's γ and β too." };
        testTimeFlip = new Option<bool>("--tta") { Description = "Test-time augmentation: validate, test and predict with the mean of the logits of each image and its mirror." };
        labelSmoothing = CommonOptions.Number("--label-smoothing", "Label smoothing s: training targets (1 - s)·onehot + s/classes.",
            defaults.LabelSmoothing, v => v is >= 0 and < 1, "a fraction from 0 up to (not including) 1");
        warmup = CommonOptions.Number("--warmup", "Epochs of linear learning-rate warm-up, stepped per batch (onecycle: its rising phase).",
            defaults.WarmupEpochs, v => v is >= 0 and <= 1000, "a number of epochs from 0 to 1000");
        ema = CommonOptions.Number("--ema", "Exponential moving average of the weights with this decay (e.g. 0.999), updated after every step: " +
            "validation, the test evaluation and the saved model use it, training goes on from the live weights.",
            defaults.EmaDecay, v => v is > 0 and < 1, "a decay between 0 and 1 (both excluded), e.g. 0.999");
        emaWarmup = new Option<bool>("--ema-warmup") { Description = "Warm the average up: after step t its decay is min(DECAY, (1 + t) / (10 + t))." };
        validationSplit = CommonOptions.Number("--validation-split", "Fraction of the training images (the last ones) held out for validation.",
            defaults.ValidationSplit, v => v is >= 0 and < 1, "a fraction from 0 up to (not including) 1");
        trainLimit = new Option<string>("--train-limit")
        {
            Description = "Use only the first N training images ('all': every one).",
            DefaultValueFactory = _ => defaultTrainLimit?.ToString(CultureInfo.InvariantCulture) ?? "all",
            CustomParser = r =>
            {
                string text = r.Tokens.Count > 0 ? r.Tokens[^1].Value : "";
                if (text != "all" && !(int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= 2))
                    r.AddError($"--train-limit must be a number of images (at least 2) or 'all', got '{text}'.");
                return text;
            },
        };
        patience = CommonOptions.OptionalInt("--early-stopping", "Stop when validation loss has not improved for this many epochs.", 1);
        schedule = CommonOptions.OneOf("--lr-schedule",
            "constant, step (halve every 5 epochs), cosine (decay to 0 over the epochs), onecycle (per batch, as PyTorch's OneCycleLR) or warmup-cosine (per batch).",
            SettingsSchema.ScheduleName(defaults.Schedule), [.. Enum.GetValues<LearningRateSchedule>().Select(SettingsSchema.ScheduleName)]);
        shift = CommonOptions.Int("--augment-shift", "Shift each training image randomly by up to N pixels (0-4).", defaults.Augmentation.MaxShift, 0, 4);
        flip = new Option<bool>("--augment-flip") { Description = "Flip training images horizontally at random." };
        erase = CommonOptions.Number("--augment-erase", "Random erasing (Zhong et al.): zero a random rectangle of 2-33 % of a training image with this probability.",
            defaults.Augmentation.EraseProbability, v => v is >= 0 and <= 1, "a probability from 0 to 1");
        recalibrate = CommonOptions.Int("--bn-recalibrate",
            "PreciseBN: at each epoch's end, recompute batch norm's moving averages over this many training batches " +
            "(equal weights, inference mode) before validating and checkpointing; 0 keeps Keras's momentum averages. " +
            "Models without batch norm ignore it.", defaults.BatchNormRecalibration, 0, 100_000);
    }

    public IEnumerable<Option> All =>
        [epochs, batchSize, learningRate, optimizer, weightDecay, decayAll, validationSplit, trainLimit, patience, schedule, warmup, labelSmoothing, shift, flip, erase, recalibrate, testTimeFlip,
            ema, emaWarmup];

    /// <summary>
    /// <paramref name="baseline"/> (the defaults, or a settings file's) with every option the
    /// command line gives. ArgumentException, naming the option, for --ema-warmup without an average.
    /// </summary>
    public Hyperparameters Read(ParseResult parse, Hyperparameters baseline)
    {
        T Pick<T>(Option<T> option, T fallback) => Given(parse, option) ? parse.GetValue(option)! : fallback;
        string scheduleName = Pick(schedule, SettingsSchema.ScheduleName(baseline.Schedule));
        var read = baseline with
        {
            Epochs = Pick(epochs, baseline.Epochs),
            BatchSize = Pick(batchSize, baseline.BatchSize),
            LearningRate = Given(parse, learningRate) ? (float)parse.GetValue(learningRate) : baseline.LearningRate,
            Optimizer = Pick(optimizer, baseline.Optimizer),
            ValidationSplit = Pick(validationSplit, baseline.ValidationSplit),
            EarlyStoppingPatience = Pick(patience, baseline.EarlyStoppingPatience),
            Schedule = Enum.GetValues<LearningRateSchedule>().First(s => SettingsSchema.ScheduleName(s) == scheduleName),
            Augmentation = new Augmentation(Pick(shift, baseline.Augmentation.MaxShift), Pick(flip, baseline.Augmentation.Flip), Pick(erase, baseline.Augmentation.EraseProbability)),
            BatchNormRecalibration = Pick(recalibrate, baseline.BatchNormRecalibration),
            WeightDecay = Given(parse, weightDecay) ? (float)parse.GetValue(weightDecay) : baseline.WeightDecay,
            DecayAll = Pick(decayAll, baseline.DecayAll),
            LabelSmoothing = Given(parse, labelSmoothing) ? (float)parse.GetValue(labelSmoothing) : baseline.LabelSmoothing,
            WarmupEpochs = Pick(warmup, baseline.WarmupEpochs),
            TestTimeFlip = Pick(testTimeFlip, baseline.TestTimeFlip),
            EmaDecay = Given(parse, ema) ? (float)parse.GetValue(ema) : baseline.EmaDecay,
            EmaWarmup = Pick(emaWarmup, baseline.EmaWarmup),
        };
        return read.EmaWarmup && read.EmaDecay == 0 ? throw new ArgumentException("--ema-warmup warms up an average: give --ema DECAY too.") : read;
    }

    /// <summary>--train-limit as a number of images (null: all); <paramref name="baseline"/> when it is not given.</summary>
    public int? TrainLimit(ParseResult parse, int? baseline) =>
        !Given(parse, trainLimit) ? baseline : parse.GetValue(trainLimit) is "all" ? null : int.Parse(parse.GetValue(trainLimit)!, CultureInfo.InvariantCulture);

    /// <summary>--epochs when the command line gives it, else null.</summary>
    public int? GivenEpochs(ParseResult parse) => Given(parse, epochs) ? parse.GetValue(epochs) : null;

    /// <summary>
    /// Each option given on the command line whose value differs from the run's, as "--lr (the run
    /// has 0.001)". --epochs is not one of them: more epochs than the run's train it further.
    /// </summary>
    public IEnumerable<string> Contradictions(ParseResult parse, CheckpointHeader run)
    {
        var h = run.Hyperparameters;
        var read = Read(parse, h);
        (Option Option, object? Given, object? Stored)[] pairs =
        [
            (batchSize, read.BatchSize, h.BatchSize), (learningRate, read.LearningRate, h.LearningRate), (optimizer, read.Optimizer, h.Optimizer),
            (validationSplit, read.ValidationSplit, h.ValidationSplit), (patience, read.EarlyStoppingPatience, h.EarlyStoppingPatience),
            (schedule, read.Schedule, h.Schedule), (shift, read.Augmentation.MaxShift, h.Augmentation.MaxShift),
            (flip, read.Augmentation.Flip, h.Augmentation.Flip), (erase, read.Augmentation.EraseProbability, h.Augmentation.EraseProbability), (recalibrate, read.BatchNormRecalibration, h.BatchNormRecalibration),
            (weightDecay, read.WeightDecay, h.WeightDecay), (decayAll, read.DecayAll, h.DecayAll), (labelSmoothing, read.LabelSmoothing, h.LabelSmoothing),
            (warmup, read.WarmupEpochs, h.WarmupEpochs), (testTimeFlip, read.TestTimeFlip, h.TestTimeFlip),
            (ema, read.EmaDecay, h.EmaDecay), (emaWarmup, read.EmaWarmup, h.EmaWarmup),
            (trainLimit, TrainLimit(parse, run.Run.Data?.TrainLimit), run.Run.Data?.TrainLimit),
        ];
        return pairs.Where(p => Given(parse, p.Option) && !Equals(p.Given, p.Stored)).Select(p => Contradiction(p.Option.Name, p.Stored));
    }

    public static string Contradiction(string option, object? stored) =>
        $"{option} (the run has {stored switch
        {
            null => "none",
            LearningRateSchedule s => SettingsSchema.ScheduleName(s),
            bool b => b ? "it" : "it off",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => stored.ToString(),
        }})";

    public static bool Given(ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };
}
