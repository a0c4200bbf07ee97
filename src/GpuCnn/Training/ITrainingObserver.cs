namespace GpuCnn.Training;

/// <summary>Hooks the trainer calls: progress output, checkpoints, metrics files.</summary>
public interface ITrainingObserver
{
    /// <summary>Called every few batches with the running mean loss and accuracy of the epoch.</summary>
    void OnProgress(int epoch, int batch, int batches, double loss, double accuracy, TimeSpan elapsed) { }

    void OnEpochEnd(EpochMetrics metrics) { }

    /// <summary>How many batches apart OnProgress is wanted (0: never; each call reads back a few scalars).</summary>
    int ProgressInterval => 0;
}
