using GpuCnn.Layers;
using GpuCnn.Models;

namespace GpuCnn.Training;

/// <summary>
/// PreciseBN (Wu and Johnson, "Rethinking 'Batch' in BatchNorm", 2021): replaces every batch-norm
/// layer's moving mean and variance with the equal-weight average of the batch statistics over
/// some training batches, run as inference (no dropout, no augmentation, no update). Keras's
/// momentum-0.99 averages weight the last few hundred steps of a model that was still changing,
/// and after few steps they still lean on their start (mean 0, variance 1); these do neither.
/// The variance is the mean of the batches' (biased) variances, as in fvcore's implementation; it
/// leaves out the variance of the batch means, about 1/batch of the total.
/// </summary>
public static class BatchNormRecalibration
{
    /// <summary>Whether the model tracks statistics that recalibration would replace (only batch norm does).</summary>
    public static bool Applies(Sequential model) => model.NonTrainableCount > 0;

    /// <summary>
    /// Recalibrates over the first <paramref name="batches"/> full batches of the feeder's current
    /// order (fewer if it has fewer). Returns the number of batches used.
    /// </summary>
    public static int Run(Sequential model, BatchFeeder feeder, int batches)
    {
        int count = Math.Min(batches, feeder.Count / feeder.BatchSize);
        for (int batch = 0; batch < count; batch++)
            model.Forward(feeder.Gather(batch, Augmentation.None, 0), PassContext.Recalibration(batch));
        return count;
    }
}
