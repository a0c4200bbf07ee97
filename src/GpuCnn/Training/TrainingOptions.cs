namespace GpuCnn.Training;

/// <summary>How the learning rate moves between epochs.</summary>
public enum LearningRateSchedule
{
    Constant,
    /// <summary>Multiply by <see cref="TrainingOptions.StepGamma"/> every <see cref="TrainingOptions.StepEvery"/> epochs.</summary>
    Step,
    /// <summary>Cosine decay from the initial rate to zero over all epochs.</summary>
    Cosine,
}

/// <summary>Every training setting; the defaults reproduce the Keras reference run.</summary>
public sealed record TrainingOptions
{
    public string Model { get; init; } = "seed";
    /// <summary>
    /// A model of your own instead of a zoo one: an architecture as <see cref="Models.Sequential.Architecture"/>
    /// writes it (`train --architecture FILE`). Kept in checkpoints, so --resume rebuilds it.
    /// </summary>
    public System.Text.Json.Nodes.JsonObject? Architecture { get; init; }
    public int Epochs { get; init; } = 15;
    public int BatchSize { get; init; } = 128;
    public float LearningRate { get; init; } = 1e-3f;
    public string Optimizer { get; init; } = "adam";
    public int Seed { get; init; } = 42;
    /// <summary>Fraction of the training images held out for validation: the last ones, as Keras does.</summary>
    public double ValidationSplit { get; init; } = 0.1;
    /// <summary>Use only the first N training images (quick runs).</summary>
    public int? TrainLimit { get; init; }
    public Augmentation Augmentation { get; init; } = Augmentation.None;
    /// <summary>Stop when validation loss has not improved for this many epochs (null: never).</summary>
    public int? EarlyStoppingPatience { get; init; }
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Constant;
    public int StepEvery { get; init; } = 5;
    /// <summary>The data the run was started on (--data-dir, --cache-dir), so that --resume trains on the same images.</summary>
    public string? DataDir { get; init; }
    public string? CacheDir { get; init; }
    /// <summary>For a folder of your own pictures: the size they are resized to, and 1 (grey) or 3 (RGB) channels.</summary>
    public int ImageHeight { get; init; } = 28;
    public int ImageWidth { get; init; } = 28;
    public int Channels { get; init; } = 1;
    /// <summary>Count and report pictures that cannot be decoded instead of stopping.</summary>
    public bool SkipBadImages { get; init; }
    public float StepGamma { get; init; } = 0.5f;
    /// <summary>
    /// PreciseBN: at each epoch's end, before validation and the checkpoint, recompute batch norm's
    /// moving averages over this many training batches (0: keep Keras's momentum averages).
    /// </summary>
    public int BatchNormRecalibration { get; init; }
    /// <summary>How many data-parallel MPI ranks trained the run (1: one process); --resume needs the same number.</summary>
    public int Ranks { get; init; } = 1;

    public float LearningRateAt(int epoch) => Schedule switch
    {
        LearningRateSchedule.Step => LearningRate * MathF.Pow(StepGamma, epoch / Math.Max(1, StepEvery)),
        LearningRateSchedule.Cosine => LearningRate * 0.5f * (1f + MathF.Cos(MathF.PI * epoch / Math.Max(1, Epochs))),
        _ => LearningRate,
    };
}
