using GpuCnn.IO;
using System.Globalization;
using System.Text;
using System.Text.Json;
using GpuCnn.Data;
using GpuCnn.Models;
using GpuCnn.Persistence;
using GpuCnn.Reporting;
using GpuCnn.Training;

namespace GpuCnn.Runs;

/// <summary>
/// A run's folder, owned by one process (<see cref="RunLock"/>): the commands and settings, the
/// model summary, metrics per epoch (CSV and JSON), the training curves, a checkpoint after every
/// epoch, and at the end the trained model, the confusion matrix and the classification report,
/// with test_results.json last. Every file is written atomically.
/// </summary>
public sealed class RunFolder : ITrainingObserver, IDisposable
{
    public string Path { get; }
    readonly RunLock owner;
    Model? model;
    readonly List<EpochMetrics> history = [];

    RunFolder(string path, RunLock owner)
    {
        Path = path;
        this.owner = owner;
    }

    public static string DefaultPath(string model) =>
        System.IO.Path.Combine("runs", $"{DateTime.Now:yyyyMMdd-HHmmss}-{model}");

    /// <summary>A new run's folder: taken, and refused (RunException) when another process owns it or it already holds something.</summary>
    public static RunFolder Create(string path)
    {
        var owner = RunLock.Acquire(path);
        if (Directory.EnumerateFileSystemEntries(path).Any(e => System.IO.Path.GetFileName(e) != RunLock.FileName))
        {
            owner.Dispose();
            throw new RunException($"run folder {path} already exists; choose another folder or continue that run.");
        }
        return new RunFolder(path, owner);
    }

    /// <summary>An existing run to continue: taken from a live owner's hands never, from a dead one's at once.</summary>
    public static RunFolder Open(string path)
    {
        var owner = RunLock.Acquire(path);
        // A process killed in the middle of a write leaves its temporary file (never the target) behind; no other writer is alive now.
        foreach (var stale in Directory.EnumerateFiles(path, ".*.tmp*")) System.IO.File.Delete(stale);
        return new RunFolder(path, owner);
    }

    string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>
    /// Starts (or continues) the run of <paramref name="model"/>: its settings (with the epochs it
    /// is to train up to), its summary, and <paramref name="command"/> added to the commands that trained it.
    /// </summary>
    public void Start(Model model, Hyperparameters hyperparameters, string command)
    {
        this.model = model;
        history.Clear();
        history.AddRange(model.History);
        string commands = System.IO.File.Exists(File(RunFiles.Command)) ? System.IO.File.ReadAllText(File(RunFiles.Command)) : "";
        AtomicFile.WriteText(File(RunFiles.Command), commands + command + Environment.NewLine);
        AtomicFile.WriteText(File(RunFiles.Settings), SettingsSchema.Document(hyperparameters, model.Run, model.Network.Name));
        AtomicFile.WriteText(File(RunFiles.Summary), ModelSummary.Render(model.Network));
    }

    public void OnEpochEnd(EpochMetrics metrics)
    {
        history.Add(metrics);
        WriteMetrics();
        Plotting.Writer?.TrainingCurves(history, File(RunFiles.TrainingPlot), model!.Network.Name);
        model!.Save(File(RunFiles.Checkpoint));
    }

    void WriteMetrics()
    {
        var csv = new StringBuilder("epoch,loss,accuracy,val_loss,val_accuracy,seconds,images_per_second,learning_rate\n");
        foreach (var m in history)
            csv.AppendLine(string.Join(',', new object[] { m.Epoch, m.Loss, m.Accuracy, m.ValLoss, m.ValAccuracy, m.Seconds, m.ImagesPerSecond, m.LearningRate }
                .Select(v => Convert.ToString(v, CultureInfo.InvariantCulture))));
        AtomicFile.WriteText(File(RunFiles.MetricsCsv), csv.ToString());
        AtomicFile.WriteText(File(RunFiles.MetricsJson), JsonSerializer.Serialize(history, MetricsJson));
    }

    static readonly JsonSerializerOptions MetricsJson = new()
    {
        WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The per-epoch metrics a run folder holds (metrics.json); a clear error naming the file otherwise.</summary>
    public static IReadOnlyList<EpochMetrics> ReadHistory(string folder)
    {
        string file = System.IO.Path.Combine(folder, RunFiles.MetricsJson);
        try
        {
            return JsonSerializer.Deserialize<List<EpochMetrics>>(System.IO.File.ReadAllText(file), MetricsJson)
                   ?? throw new JsonException("empty");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new DataFileException(file, $"not a run's metrics ({e.Message})");
        }
    }

    /// <summary>
    /// Draws a run's pictures again from its files: the training curves from metrics.json and,
    /// once the run is finished, the confusion matrix from test_results.json (with the class
    /// names its model file stores). For runs drawn where no font was installed.
    /// </summary>
    public static void Redraw(string folder)
    {
        var plots = Plotting.Require();
        var history = ReadHistory(folder);
        string checkpoint = System.IO.Path.Combine(folder, RunFiles.Checkpoint);
        string modelFile = System.IO.Path.Combine(folder, RunFiles.Model);
        var header = System.IO.File.Exists(modelFile) ? Checkpoint.Load(modelFile).Header
            : System.IO.File.Exists(checkpoint) ? Checkpoint.Load(checkpoint).Header : null;
        plots.TrainingCurves(history, System.IO.Path.Combine(folder, RunFiles.TrainingPlot), header?.Model ?? "model");
        if (!IsFinished(folder)) return;
        var test = JsonDocument.Parse(System.IO.File.ReadAllText(System.IO.Path.Combine(folder, RunFiles.TestResults))).RootElement;
        var rows = test.GetProperty("confusion").EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetInt32()).ToArray()).ToArray();
        var counts = new int[rows.Length, rows.Length];
        for (int r = 0; r < rows.Length; r++)
            for (int c = 0; c < rows.Length; c++) counts[r, c] = rows[r][c];
        plots.ConfusionMatrix(counts, header?.TrainedClassNames ?? FashionMnist.ClassNames, System.IO.Path.Combine(folder, RunFiles.ConfusionPlot),
            ConfusionTitle(test.GetProperty("model").GetString()!, test.GetProperty("test_accuracy").GetDouble()));
    }

    /// <summary>The confusion matrix's title, the same whether a run draws it or `gpucnn plot` redraws it.</summary>
    static string ConfusionTitle(string model, double accuracy) => $"{model}: test accuracy {accuracy:P2}";

    /// <summary>Whether a run's final phase is complete: test_results.json is the last file it writes.</summary>
    public static bool IsFinished(string folder) => System.IO.File.Exists(System.IO.Path.Combine(folder, RunFiles.TestResults));

    /// <summary>Whether <paramref name="folder"/> holds a run (a checkpoint, a model or an owner), which only its owner writes into.</summary>
    public static bool HoldsRun(string folder) =>
        new[] { RunFiles.Checkpoint, RunFiles.Model, RunLock.FileName }.Any(f => System.IO.File.Exists(System.IO.Path.Combine(folder, f)));

    /// <summary>Writes the final model and the test reports; test_results.json last, as the mark that the run is finished.</summary>
    public ClassificationMetrics Finish(Evaluation test)
    {
        model!.Save(File(RunFiles.Model));
        return WriteEvaluation(Path, model, test, RunFiles.TestResults);
    }

    /// <summary>Confusion matrix, classification report and the results (as <paramref name="resultsFile"/>) of an evaluation, into folder.</summary>
    public static ClassificationMetrics WriteEvaluation(string folder, Model model, Evaluation test, string resultsFile)
    {
        string modelName = model.Network.Name;
        var classNames = model.ClassNames;
        var metrics = new ClassificationMetrics(test.Predictions, test.Labels, classNames);
        Directory.CreateDirectory(folder);
        Plotting.Writer?.ConfusionMatrix(metrics.Confusion, classNames, System.IO.Path.Combine(folder, RunFiles.ConfusionPlot),
            ConfusionTitle(modelName, test.Accuracy));
        AtomicFile.WriteText(System.IO.Path.Combine(folder, RunFiles.Report), metrics.Report());
        AtomicFile.WriteText(System.IO.Path.Combine(folder, resultsFile), JsonSerializer.Serialize(new
        {
            model = modelName, parameters = model.Network.TrainableCount + model.Network.NonTrainableCount, test_loss = test.Loss,
            test_accuracy = test.Accuracy, images = test.Labels.Length,
            confusion = Enumerable.Range(0, classNames.Count).Select(r => Enumerable.Range(0, classNames.Count).Select(c => metrics.Confusion[r, c]).ToArray()).ToArray(),
        }, new JsonSerializerOptions { WriteIndented = true }));
        return metrics;
    }

    /// <summary>Gives the folder up to the next owner.</summary>
    public void Dispose() => owner.Dispose();
}
