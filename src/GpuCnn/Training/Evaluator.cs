using GpuCnn.Layers;
using GpuCnn.Models;

namespace GpuCnn.Training;

/// <summary>Runs a model in inference mode over every image a feeder serves (a data-parallel rank: over its share of each batch; the totals sum the ranks).</summary>
public static class Evaluator
{
    public static Evaluation Evaluate(Sequential model, BatchFeeder feeder, SoftmaxCrossEntropy loss, Distributed.DataParallel? parallel = null)
    {
        using var totals = new LossTotals(model.Device, parallel);
        totals.Reset();
        totals.EnsurePredictionLog(feeder.Count);
        for (int batch = 0; batch < feeder.Batches; batch++)
        {
            var (start, rows) = feeder.ShareOf(batch);
            if (rows == 0) continue;
            var x = feeder.Gather(batch, Augmentation.None, 0);
            var logits = model.Forward(x, PassContext.Inference);
            loss.Forward(logits, feeder.Labels, totals, logOffset: batch * feeder.BatchSize + start);
        }
        var (mean, accuracy, _) = totals.Read();
        return new Evaluation(mean, accuracy, totals.ReadPredictions(feeder.Count), feeder.HostLabels());
    }
}
