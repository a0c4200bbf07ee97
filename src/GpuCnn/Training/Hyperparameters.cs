namespace GpuCnn.Training;

/// <summary>How the learning rate moves between epochs.</summary>
public enum LearningRateSchedule
{
    Constant,
    /// <summary>Multiply by <see cref="Hyperparameters.StepGamma"/> every <see cref="Hyperparameters.StepEvery"/> epochs.</summary>
    Step,
    /// <summary>Cosine decay from the initial rate to zero over all epochs.</summary>
    Cosine,
    /// <summary>
    /// Per batch, the rate of PyTorch's OneCycleLR: from lr/25 up to lr over the warm-up (30 % of
    /// the steps when no warm-up is given), then down to lr/250,000, both along cosines. The
    /// momentum stays as the optimizer has it (OneCycleLR cycles it by default).
    /// </summary>
    OneCycle,
    /// <summary>Per batch: a linear warm-up, then cosine decay to zero over the remaining steps.</summary>
    WarmupCosine,
}

/// <summary>
/// How a model is trained, and nothing else: the budget, the optimizer and its schedule, the
/// seed, validation, augmentation, early stopping, PreciseBN, frozen layers. The defaults reproduce the Keras
/// reference run. Which data and which run folder are other records (<see cref="Data.DataSpec"/>
/// and the run's own); a checkpoint writes each under its own key, field by field.
/// </summary>
public sealed record Hyperparameters
{
    public int Epochs { get; init; } = 15;
    public int BatchSize { get; init; } = 128;
    public float LearningRate { get; init; } = 1e-3f;
    /// <summary>One of Optimizer.Names: "adam", "adamw", "sgd" or "sgd-nesterov" (both SGDs with momentum 0.9).</summary>
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
    /// <summary>λ: AdamW's decoupled weight decay or SGD-Nesterov's L2 term (0: none).</summary>
    public float WeightDecay { get; init; }
    /// <summary>Decay every parameter; by default biases and batch norm's γ and β are left out.</summary>
    public bool DecayAll { get; init; }
    /// <summary>Label smoothing's s: training targets (1 - s)·onehot + s/classes (0: none). Evaluation reports the plain cross-entropy.</summary>
    public float LabelSmoothing { get; init; }
    /// <summary>Test-time augmentation for validation, the test evaluation and predictions: the mean of the logits of an image and its mirror.</summary>
    public bool TestTimeFlip { get; init; }
    /// <summary>Epochs of linear warm-up, counted in batches (0: none); OneCycle's rising phase when given.</summary>
    public double WarmupEpochs { get; init; }
    /// <summary>
    /// The decay d of an exponential moving average of the weights (0: none; e.g. 0.999): after
    /// every step average = d·average + (1 - d)·weights, batch norm's moving statistics alike.
    /// Validation, the test evaluation, predictions and the saved model use the average; training
    /// goes on from the live weights (see <see cref="EmaWeights"/>).
    /// </summary>
    public float EmaDecay { get; init; }
    /// <summary>The average's warm-up: after step t the decay is min(EmaDecay, (1 + t) / (10 + t)), so the first weights fade fast.</summary>
    public bool EmaWarmup { get; init; }
    /// <summary>
    /// Fine-tuning: the layers up to and including this one (by name) stay fixed, as Keras's
    /// trainable = False on each; null trains every layer (see Sequential.Freeze).
    /// </summary>
    public string? Freeze { get; init; }

    /// <summary>
    /// The learning rate of batch <paramref name="batch"/> of <paramref name="batches"/> in epoch
    /// <paramref name="epoch"/> (0-based): the per-batch schedules and the warm-up, or the epoch's rate.
    /// </summary>
    public float LearningRateAt(int epoch, int batch, int batches)
    {
        long step = (long)epoch * batches + batch, total = (long)Epochs * batches;
        long warmup = (long)Math.Round(WarmupEpochs * batches);
        switch (Schedule)
        {
            case LearningRateSchedule.OneCycle:
            {
                double peak = LearningRate, start = peak / 25, end = start / 1e4;
                double rise = (warmup > 0 ? warmup : Math.Round(0.3 * total)) - 1;
                return (float)(step <= rise
                    ? Anneal(start, peak, rise > 0 ? step / rise : 1)
                    : Anneal(peak, end, (step - rise) / Math.Max(1.0, total - 1 - rise)));
            }
            case LearningRateSchedule.WarmupCosine:
                return step < warmup
                    ? (float)(LearningRate * (step + 1.0) / warmup)
                    : (float)(LearningRate * 0.5 * (1 + Math.Cos(Math.PI * (step - warmup) / Math.Max(1, total - warmup))));
            default:
                float rate = LearningRateAt(epoch);
                return step < warmup ? (float)(rate * (step + 1.0) / warmup) : rate;
        }
    }

    /// <summary>From <paramref name="from"/> to <paramref name="to"/> along half a cosine, at fraction <paramref name="t"/>.</summary>
    static double Anneal(double from, double to, double t) => to + (from - to) / 2 * (Math.Cos(Math.PI * Math.Min(1, t)) + 1);

    /// <summary>The learning rate of epoch <paramref name="epoch"/> (0-based) under a per-epoch schedule.</summary>
    public float LearningRateAt(int epoch) => Schedule switch
    {
        LearningRateSchedule.Step => LearningRate * MathF.Pow(StepGamma, epoch / Math.Max(1, StepEvery)),
        LearningRateSchedule.Cosine => LearningRate * 0.5f * (1f + MathF.Cos(MathF.PI * epoch / Math.Max(1, Epochs))),
        _ => LearningRate,
    };
}
