namespace GpuCnn.Training;

/// <summary>How the learning rate moves between epochs.</summary>
public enum LearningRateSchedule
{
    Constant,
    /// <summary>Multiply by <see cref="Hyperparameters.StepGamma"/> every <see cref="Hyperparameters.StepEvery"/> epochs.</summary>
    Step,
    /// <summary>Cosine decay from the initial rate to zero over all epochs.</summary>
    Cosine,
}

/// <summary>
/// How a model is trained, and nothing else: the budget, the optimizer and its schedule, the
/// seed, validation, augmentation, early stopping, PreciseBN. The defaults reproduce the Keras
/// reference run. Which data and which run folder are other records (<see cref="Data.DataSpec"/>
/// and the run's own); a checkpoint writes each under its own key, field by field.
/// </summary>
public sealed record Hyperparameters
{
    public int Epochs { get; init; } = 15;
    public int BatchSize { get; init; } = 128;
    public float LearningRate { get; init; } = 1e-3f;
    /// <summary>"adam" or "sgd" (momentum 0.9).</summary>
    public string Optimizer { get; init; } = "adam";
    /// <summary>Seeds the initial weights, the shuffles, dropout and augmentation.</summary>
    public int Seed { get; init; } = 42;
    /// <summary>Fraction of the training images held out for validation: the last ones, as Keras does.</summary>
    public double ValidationSplit { get; init; } = 0.1;
    public Augmentation Augmentation { get; init; } = Augmentation.None;
    /// <summary>Stop when validation loss has not improved for this many epochs (null: never).</summary>
    public int? EarlyStoppingPatience { get; init; }
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Constant;
    public int StepEvery { get; init; } = 5;
    public float StepGamma { get; init; } = 0.5f;
    /// <summary>
    /// PreciseBN: at each epoch's end, before validation and the checkpoint, recompute batch norm's
    /// moving averages over this many training batches (0: keep Keras's momentum averages).
    /// </summary>
    public int BatchNormRecalibration { get; init; }

    /// <summary>The learning rate of epoch <paramref name="epoch"/> (0-based) under the schedule.</summary>
    public float LearningRateAt(int epoch) => Schedule switch
    {
        LearningRateSchedule.Step => LearningRate * MathF.Pow(StepGamma, epoch / Math.Max(1, StepEvery)),
        LearningRateSchedule.Cosine => LearningRate * 0.5f * (1f + MathF.Cos(MathF.PI * epoch / Math.Max(1, Epochs))),
        _ => LearningRate,
    };
}
