using System.Diagnostics;
using GpuCnn.Kernels;
using GpuCnn.Layers;
using GpuCnn.Models;
using ILGPU.Runtime;

namespace GpuCnn.Training;

/// <summary>
/// The mini-batch loop, and nothing else: per batch it gathers, runs forward, loss, backward and
/// the optimizer step, all on the device; per epoch it reads back the totals, validates and
/// tells the observers (which print, plot and checkpoint). In a data-parallel run (feeders and
/// loss built with the same <paramref name="parallel"/>) each rank does this on its share of the
/// batch and the gradients are summed before the step. With an <paramref name="ema"/>, the steps
/// train the live weights and each epoch ends with the average in the model, for validation and
/// the observers (checkpoints).
/// </summary>
public sealed class Trainer(Sequential model, Optimizer optimizer, SoftmaxCrossEntropy loss, BatchFeeder train,
    BatchFeeder? validation, Hyperparameters hyperparameters, Distributed.DataParallel? parallel = null, EmaWeights? ema = null) : IDisposable
{
    /// <summary>The epoch's training loss and accuracy so far; validation keeps its own.</summary>
    readonly LossTotals totals = new(model.Device, parallel);

    /// <summary>GPUCNN_MPI_VERIFY=1: check after every step that all ranks hold the same weights to the bit (slow; for tests).</summary>
    readonly bool verifyRanks = parallel is not null && Environment.GetEnvironmentVariable("GPUCNN_MPI_VERIFY") == "1";

    readonly List<ITrainingObserver> observers = [];

    public List<EpochMetrics> History { get; } = [];

    public Trainer Observe(ITrainingObserver observer)
    {
        observers.Add(observer);
        return this;
    }

    /// <summary>
    /// Trains from epoch <c>History.Count</c> up to hyperparameters.Epochs (or an early stop). A resumed
    /// history that is already complete, or already met the early-stopping rule, trains nothing.
    /// </summary>
    public void Run()
    {
        if (IsComplete) return;
        for (int epoch = History.Count; epoch < hyperparameters.Epochs; epoch++)
        {
            var metrics = RunEpoch(epoch);
            History.Add(metrics);
            foreach (var observer in observers) observer.OnEpochEnd(metrics);
            if (ShouldStopEarly()) break;
        }
    }

    public bool StoppedEarly => History.Count < hyperparameters.Epochs && ShouldStopEarly();

    /// <summary>Whether no epoch is left to train: all of them ran, or early stopping ended the run.</summary>
    public bool IsComplete => IsTrainingComplete(History, hyperparameters);

    /// <summary>The same for a checkpoint's history and hyperparameters.</summary>
    public static bool IsTrainingComplete(IReadOnlyList<EpochMetrics> history, Hyperparameters hyperparameters) =>
        history.Count >= hyperparameters.Epochs || hyperparameters.EarlyStoppingPatience is { } patience && NoImprovementFor(history, patience);

    bool ShouldStopEarly() => hyperparameters.EarlyStoppingPatience is { } patience && NoImprovementFor(History, patience);

    /// <summary>
    /// Keras's EarlyStopping on val_loss: true when the last <paramref name="patience"/> epochs all
    /// have a validation loss above the best one seen.
    /// </summary>
    public static bool NoImprovementFor(IReadOnlyList<EpochMetrics> history, int patience)
    {
        if (history.Count <= patience) return false;
        double best = history.Min(m => m.ValLoss);
        return history.TakeLast(patience).All(m => m.ValLoss > best);
    }

    EpochMetrics RunEpoch(int epoch)
    {
        var clock = Stopwatch.StartNew();
        train.Shuffle(hyperparameters.Seed * 7919 + epoch);
        totals.Reset();
        int interval = observers.Select(o => o.ProgressInterval).Where(i => i > 0).DefaultIfEmpty(0).Min();
        for (int batch = 0; batch < train.Batches; batch++)
        {
            optimizer.LearningRate = hyperparameters.LearningRateAt(epoch, batch, train.Batches);
            TrainBatch(batch);
            if (interval > 0 && ((batch + 1) % interval == 0 || batch + 1 == train.Batches))
            {
                var (epochLoss, epochAccuracy, _) = totals.Read();
                CheckFinite(epochLoss, epoch, batch);
                foreach (var observer in observers)
                    observer.OnProgress(epoch, batch + 1, train.Batches, epochLoss, epochAccuracy, clock.Elapsed);
            }
        }
        var (trainLoss, trainAccuracy, rows) = totals.Read();
        CheckFinite(trainLoss, epoch, train.Batches - 1);
        double seconds = clock.Elapsed.TotalSeconds;
        if (ema is not null)
        {
            // The live statistics agree on every rank at each checkpoint, as without an average.
            parallel?.AverageStatistics(model);
            ema.UseAverage();
        }
        if (hyperparameters.BatchNormRecalibration > 0 && BatchNormRecalibration.Applies(model))
            BatchNormRecalibration.Run(model, train, hyperparameters.BatchNormRecalibration);
        parallel?.AverageStatistics(model);
        double valLoss = double.NaN, valAccuracy = double.NaN;
        if (validation is not null)
            (valLoss, valAccuracy, _, _) = Evaluator.Evaluate(model, validation, loss, parallel, hyperparameters.TestTimeFlip);
        return new EpochMetrics(epoch + 1, trainLoss, trainAccuracy, valLoss, valAccuracy, seconds, rows / seconds,
            optimizer.LearningRate);
    }

    /// <summary>One optimisation step on batch number <paramref name="batch"/> of the current order: all on the device.</summary>
    public void TrainBatch(int batch)
    {
        ema?.UseLive();
        uint stepSeed = CounterRng.Hash((uint)hyperparameters.Seed, (uint)optimizer.Steps);
        var (first, rows) = train.ShareOf(batch);
        if (rows > 0)
        {
            var x = train.Gather(batch, hyperparameters.Augmentation, stepSeed);
            var logits = model.Forward(x, new PassContext(true, stepSeed, RowOffset: first));
            model.Backward(loss.Forward(logits, train.Labels, totals, meanOverRows: train.RowsOf(batch), smoothing: hyperparameters.LabelSmoothing));
        }
        else model.GradientBuffer.View.MemSetToZero(); // a share of a short last batch can be empty
        parallel?.SumGradients(model);
        optimizer.Step();
        ema?.Update(optimizer.Steps);
        if (verifyRanks) parallel!.VerifyIdentical(model, optimizer.Steps);
    }

    static void CheckFinite(double value, int epoch, int batch)
    {
        if (!double.IsFinite(value))
            throw new TrainingDivergedException(
                $"the training loss became {value} in epoch {epoch + 1} by batch {batch + 1}; try a lower learning rate. " +
                "The last complete checkpoint is kept.");
    }

    public void Dispose() => totals.Dispose();
}
