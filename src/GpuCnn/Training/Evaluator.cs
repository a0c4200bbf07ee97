using System.Diagnostics;
using GpuCnn.Layers;
using GpuCnn.Models;
using GpuCnn.Tensors;

namespace GpuCnn.Training;

/// <summary>Runs a model in inference mode over every image a feeder serves (a data-parallel rank: over its share of each batch; the totals sum the ranks).</summary>
public static class Evaluator
{
    /// <summary>How often, at most, <c>progress</c> is told: each report waits for the device to finish the batches launched.</summary>
    static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(0.25);

    /// <param name="testTimeFlip">Test-time augmentation: score the mean of the logits of each image and its mirror image.</param>
    /// <param name="progress">Told (images scored, images in all) a few times a second while batches finish, and once at the end.</param>
    public static Evaluation Evaluate(Sequential model, BatchFeeder feeder, SoftmaxCrossEntropy loss, Distributed.DataParallel? parallel = null,
        bool testTimeFlip = false, Action<int, int>? progress = null)
    {
        var sinceReport = Stopwatch.StartNew();
        using var totals = new LossTotals(model.Device, parallel);
        using var mean = testTimeFlip ? Tensor.Zeros(model.Device, [feeder.BatchSize, .. model.OutputShape]) : null;
        totals.Reset();
        totals.EnsurePredictionLog(feeder.Count);
        for (int batch = 0; batch < feeder.Batches; batch++)
        {
            var (start, rows) = feeder.ShareOf(batch);
            if (rows == 0) continue;
            var logits = model.Forward(feeder.Gather(batch, Augmentation.None, 0), PassContext.Inference);
            if (mean is not null)
            {
                // The next forward pass overwrites the logits: keep them, then average with the mirror's.
                var kept = mean.FirstRows(rows);
                ILGPU.Runtime.ArrayViewExtensions.CopyTo(logits.View, kept.View);
                var mirrored = model.Forward(feeder.Gather(batch, Augmentation.Mirror, 0), PassContext.Inference);
                model.Device.Kernels.Average(kept.View, mirrored.View, kept.View);
                logits = kept;
            }
            loss.Forward(logits, feeder.Labels, totals, logOffset: batch * feeder.BatchSize + start);
            if (progress is not null && sinceReport.Elapsed >= ProgressEvery && batch + 1 < feeder.Batches)
            {
                model.Device.Synchronize();
                progress((batch + 1) * feeder.BatchSize, feeder.Count);
                sinceReport.Restart();
            }
        }
        var (meanLoss, accuracy, _) = totals.Read();
        progress?.Invoke(feeder.Count, feeder.Count);
        return new Evaluation(meanLoss, accuracy, totals.ReadPredictions(feeder.Count), feeder.HostLabels());
    }
}
