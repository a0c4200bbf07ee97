using GpuCnn.Training;

namespace GpuCnn.Reporting;

/// <summary>
/// Prints training progress. On a terminal, a live bar (batches, ETA, running loss and accuracy)
/// redrawn in place; otherwise (CI, pipes) one plain line per epoch, Keras-style.
/// </summary>
public sealed class ConsoleProgress(TextWriter output, int epochs, bool live) : ITrainingObserver
{
    public int ProgressInterval => live ? 5 : 0;

    public void OnProgress(int epoch, int batch, int batches, double loss, double accuracy, TimeSpan elapsed)
    {
        // Other observers may ask for progress; without a terminal the bar stays off.
        if (!live) return;
        const int Width = 30;
        int filled = (int)((long)Width * batch / batches);
        double eta = batch == 0 ? 0 : elapsed.TotalSeconds / batch * (batches - batch);
        output.Write($"\rEpoch {epoch + 1}/{epochs} [{new string('=', filled)}{new string('.', Width - filled)}] " +
                     $"{batch}/{batches} - ETA {eta,4:F0}s - loss: {loss:F4} - accuracy: {accuracy:F4} ");
        output.Flush();
    }

    public void OnEpochEnd(EpochMetrics m)
    {
        if (live) output.Write("\r" + new string(' ', 110) + "\r");
        output.WriteLine(Format(m, epochs));
        output.Flush();
    }

    public static string Format(EpochMetrics m, int epochs)
    {
        string text = $"Epoch {m.Epoch}/{epochs} - {m.Seconds:F1}s - {m.ImagesPerSecond:F0} img/s - loss: {m.Loss:F4} - accuracy: {m.Accuracy:F4}";
        if (!double.IsNaN(m.ValLoss)) text += $" - val_loss: {m.ValLoss:F4} - val_accuracy: {m.ValAccuracy:F4}";
        return text;
    }
}
