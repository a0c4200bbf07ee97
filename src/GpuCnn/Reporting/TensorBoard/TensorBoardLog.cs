using GpuCnn.Training;

namespace GpuCnn.Reporting.TensorBoard;

/// <summary>
/// What a run shows in TensorBoard, as Keras's TensorBoard callback logs it: per epoch the
/// losses, accuracies, learning rate and speed (epoch/..., step = the epoch number); every
/// <see cref="ProgressInterval"/> batches the epoch's running mean loss and accuracy
/// (batch/..., step = the global batch number); the training curves after each epoch; and, when
/// told, the settings (text) and the test results (scalars and the confusion matrix). One new
/// events file in <paramref name="directory"/> per log.
/// </summary>
/// <param name="curvesFile">The training-curves PNG another observer (the run folder) redraws
/// at each epoch's end, before this one is told; logged as an image when present.</param>
public sealed class TensorBoardLog(string directory, int progressInterval = TensorBoardLog.DefaultProgressInterval, string? curvesFile = null)
    : ITrainingObserver, IDisposable
{
    public const int DefaultProgressInterval = 20;

    readonly EventFileWriter writer = new(directory);

    public string EventFile => writer.Path;

    public int ProgressInterval { get; } = progressInterval > 0 ? progressInterval : throw new ArgumentOutOfRangeException(nameof(progressInterval));

    public void OnProgress(int epoch, int batch, int batches, double loss, double accuracy, TimeSpan elapsed)
    {
        // The trainer reports at the smallest interval any observer asks for, and at each epoch's last batch.
        if (batch % ProgressInterval != 0 && batch != batches) return;
        writer.Scalars((long)epoch * batches + batch, ("batch/loss", loss), ("batch/accuracy", accuracy));
    }

    public void OnEpochEnd(EpochMetrics m)
    {
        writer.Scalars(m.Epoch, ("epoch/loss", m.Loss), ("epoch/accuracy", m.Accuracy), ("epoch/val_loss", m.ValLoss),
            ("epoch/val_accuracy", m.ValAccuracy), ("epoch/learning_rate", m.LearningRate), ("epoch/images_per_second", m.ImagesPerSecond));
        if (curvesFile is not null && File.Exists(curvesFile)) Image("training_metrics", curvesFile, m.Epoch);
    }

    /// <summary>The run's settings (JSON) as text at step 0.</summary>
    public void Settings(string json) => writer.Text("settings", $"```json\n{json.TrimEnd()}\n```", 0);

    /// <summary>The test evaluation after <paramref name="epochs"/> epochs, with the confusion-matrix PNG when there is one.</summary>
    public void Test(Evaluation test, int epochs, string? confusionFile)
    {
        writer.Scalars(epochs, ("test/loss", test.Loss), ("test/accuracy", test.Accuracy));
        if (confusionFile is not null && File.Exists(confusionFile)) Image("confusion_matrix", confusionFile, epochs);
    }

    void Image(string tag, string pngFile, long step) => writer.Png(tag, File.ReadAllBytes(pngFile), step);

    public void Dispose() => writer.Dispose();
}
