using GpuCnn.Models;
using GpuCnn.Tensors;

namespace GpuCnn.Training;

/// <summary>
/// An exponential moving average of a model's weights (Polyak averaging, as TensorFlow's
/// ExponentialMovingAverage): after every optimizer step t, average = d·average + (1 - d)·live over
/// the flat parameter buffer, with d = decay, or min(decay, (1 + t) / (10 + t)) with the warm-up.
/// Batch norm's moving statistics are averaged alike, over the flat state buffer: the averaged
/// weights lag the live ones by about 1 / (1 - d) steps, and statistics averaged over the same
/// steps describe the activations of weights averaged over them, where the live statistics
/// (momentum 0.99, about 100 steps) would describe the live weights. PreciseBN, when on,
/// recomputes them for the averaged weights themselves.
/// <para>
/// The model holds one set of weights at a time and this holds the other, so nothing is copied
/// to evaluate: <see cref="UseLive"/> and <see cref="UseAverage"/> exchange them in place, exactly.
/// The trainer runs its steps on the live weights and puts the average in the model at each
/// epoch's end, for validation, checkpoints and everything after training. Until the first
/// step, the average is the model's weights as they are then (whatever was loaded into it after
/// it was built).
/// </para>
/// </summary>
public sealed class EmaWeights : IDisposable
{
    /// <summary>Names of the live weights' arrays in a checkpoint, beside the model's own arrays, which hold the average.</summary>
    public const string LiveParametersName = "ema/live-parameters", LiveStatisticsName = "ema/live-statistics";

    readonly Sequential model;
    /// <summary>The set the model does not hold: the average while it trains, the live weights while it holds the average.</summary>
    readonly Tensor parameters, statistics;
    /// <summary>No step yet: the model's weights are both sets, and the buffers above hold nothing yet.</summary>
    bool fresh = true;

    public float Decay { get; }
    public bool Warmup { get; }

    /// <summary>Whether the model holds the average now (else the live weights).</summary>
    public bool AverageInModel { get; private set; }

    /// <summary>An average of <paramref name="model"/>'s weights (built), starting from its weights before the first step.</summary>
    public EmaWeights(Sequential model, float decay, bool warmup = false)
    {
        if (!(decay is > 0 and < 1))
            throw new ArgumentException($"the EMA decay must be between 0 and 1 (both excluded), e.g. 0.999; got {decay}.");
        this.model = model;
        Decay = decay;
        Warmup = warmup;
        parameters = Tensor.Zeros(model.Device, model.ParameterBuffer.Length);
        statistics = Tensor.Zeros(model.Device, model.StateBuffer.Length);
    }

    /// <summary>The average <paramref name="hyperparameters"/> ask for (null when EmaDecay is 0).</summary>
    public static EmaWeights? For(Sequential model, Hyperparameters hyperparameters)
    {
        if (hyperparameters.EmaDecay != 0) return new EmaWeights(model, hyperparameters.EmaDecay, hyperparameters.EmaWarmup);
        return hyperparameters.EmaWarmup ? throw new ArgumentException("the EMA warm-up needs an EMA decay.") : null;
    }

    /// <summary>The decay after optimizer step <paramref name="step"/> (1 for the first).</summary>
    public float DecayAt(long step) => Warmup ? (float)Math.Min(Decay, (1.0 + step) / (10.0 + step)) : Decay;

    /// <summary>Folds the live weights after optimizer step <paramref name="step"/> (1 for the first) into the average.</summary>
    public void Update(long step)
    {
        UseLive();
        float decay = DecayAt(step);
        model.Device.Kernels.EmaUpdate(parameters.View, model.ParameterBuffer.View, decay);
        model.Device.Kernels.EmaUpdate(statistics.View, model.StateBuffer.View, decay);
    }

    /// <summary>Puts the live weights in the model (for a training step).</summary>
    public void UseLive()
    {
        if (fresh) Begin();
        if (AverageInModel) Swap();
    }

    /// <summary>Puts the average in the model (to evaluate, save or export it).</summary>
    public void UseAverage()
    {
        if (!fresh && !AverageInModel) Swap();
    }

    /// <summary>
    /// The live weights, to store beside the model's arrays (which then hold the average):
    /// (name, values) pairs for a checkpoint.
    /// </summary>
    public IReadOnlyList<(string Name, Tensor Value)> LiveState()
    {
        if (fresh) Begin();
        UseAverage();
        return [(LiveParametersName, parameters), (LiveStatisticsName, statistics)];
    }

    /// <summary>
    /// The state a checkpoint restored: the model holds the average (its arrays), and the
    /// arguments are the live weights' arrays, or null for a file saved without them (the average
    /// then starts again from the model's weights).
    /// </summary>
    public void Restore(float[]? liveParameters, float[]? liveStatistics)
    {
        fresh = liveParameters is null;
        AverageInModel = !fresh;
        if (fresh) return;
        parameters.CopyFrom(liveParameters);
        statistics.CopyFrom(liveStatistics);
    }

    /// <summary>The buffers the model does not hold, whichever set that is (a data-parallel job broadcasts them with the model's).</summary>
    public IEnumerable<Tensor> Buffers => [parameters, statistics];

    void Begin()
    {
        ILGPU.Runtime.ArrayViewExtensions.CopyTo(model.ParameterBuffer.View, parameters.View);
        ILGPU.Runtime.ArrayViewExtensions.CopyTo(model.StateBuffer.View, statistics.View);
        fresh = false;
        AverageInModel = false;
    }

    void Swap()
    {
        model.Device.Kernels.EmaSwap(model.ParameterBuffer.View, parameters.View);
        model.Device.Kernels.EmaSwap(model.StateBuffer.View, statistics.View);
        AverageInModel = !AverageInModel;
    }

    public void Dispose()
    {
        parameters.Dispose();
        statistics.Dispose();
    }
}
