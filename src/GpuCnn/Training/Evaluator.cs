using GpuCnn.Layers;
using GpuCnn.Models;

namespace GpuCnn.Training;

/// <summary>Runs a model in inference mode over every image a feeder serves (a data-parallel rank: over its share of each batch; the loss sums the ranks).</summary>
public static class Evaluator
{
    public static Evaluation Evaluate(Sequential model, BatchFeeder feeder, SoftmaxCrossEntropy loss)
    {
        loss.ResetTotals();
        loss.EnsurePredictionLog(feeder.Count);
        for (int batch = 0; batch < feeder.Batches; batch++)
        {
            var (start, rows) = feeder.ShareOf(batch);
            if (rows == 0) continue;
            var x = feeder.Gather(batch, Augmentation.None, 0);
            var logits = model.Forward(x, PassContext.Inference);
            loss.Compute(logits, feeder.Labels, training: false, logOffset: batch * feeder.BatchSize + start);
        }
        var (mean, accuracy, _) = loss.ReadTotals();
        return new Evaluation(mean, accuracy, loss.ReadPredictions(feeder.Count), feeder.HostLabels());
    }
}
