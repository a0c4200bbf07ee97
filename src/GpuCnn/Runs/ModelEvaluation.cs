using GpuCnn.Data;
using GpuCnn.Devices;
using GpuCnn.Persistence;
using GpuCnn.Reporting;
using GpuCnn.Training;

namespace GpuCnn.Runs;

/// <summary>
/// Scores a saved model (a file or a run folder) on the test images of the data it was trained
/// on, or of another folder. It never writes into a run: the figures go to the output, and the
/// report, confusion matrix and evaluation.json only to a folder of their own when one is given.
/// </summary>
public static class ModelEvaluation
{
    public const string ResultsFile = "evaluation.json";

    /// <param name="dataDir">Test on this folder's images instead of the model's own data.</param>
    /// <param name="reportFolder">Where to write the report and confusion matrix (null: nowhere); refused when it holds a run.</param>
    /// <param name="testTimeFlip">Score the mean of each image's and its mirror's logits (null: as the model was trained to).</param>
    /// <param name="liveProgress">Count the images scored on a line redrawn in place (a terminal).</param>
    public static Evaluation Run(string modelPath, DeviceKind kind, string? dataDir, string? cacheDir, string? reportFolder, TextWriter output,
        bool? testTimeFlip = null, bool liveProgress = false)
    {
        if (reportFolder is not null && RunFolder.HoldsRun(reportFolder))
            throw new RunException($"{reportFolder} holds a training run, which evaluation never writes into; choose a folder of its own.");
        using var device = ComputeDevice.Open(kind);
        using var model = Model.Load(modelPath, device);
        var trainedOn = model.Run.Data ?? new DataSpec();
        var spec = trainedOn with { DataDir = dataDir ?? trainedOn.DataDir, CacheDir = cacheDir ?? trainedOn.CacheDir, TrainLimit = null };
        var data = spec.Load(model.Hyperparameters.Seed, line => output.WriteLine("data: " + line));
        if (!data.Test.Shape.SequenceEqual(model.Network.InputShape) || data.Classes != model.Classes)
            throw new ArgumentException($"{data.Source} holds {data.Classes} classes of {string.Join("x", data.Test.Shape)} pictures, " +
                                        $"but model {model.Network.Name} takes {string.Join("x", model.Network.InputShape)} and {model.Classes} classes.");
        output.WriteLine($"Scoring the {data.Test.Count:N0} test images of {data.Source}...");
        var test = model.Evaluate(data.Test, testTimeFlip, new ScoringProgress(output, liveProgress).Report);
        var metrics = reportFolder is not null
            ? RunFolder.WriteEvaluation(reportFolder, model, test, ResultsFile)
            : new ClassificationMetrics(test.Predictions, test.Labels, model.ClassNames);
        output.WriteLine($"Model {model.Network.Name} after {model.History.Count} epochs: test accuracy {test.Accuracy:P2}, test loss {test.Loss:F4} ({data.Test.Count} images)");
        output.WriteLine();
        output.Write(metrics.Report());
        if (reportFolder is not null) output.WriteLine($"Confusion matrix and report written to {reportFolder}");
        return test;
    }
}
