using System.Globalization;
using System.Text;
using System.Text.Json;
using GpuCnn.Data;
using GpuCnn.Models;
using GpuCnn.Persistence;
using GpuCnn.Training;

namespace GpuCnn.Reporting;

/// <summary>
/// A run's folder: the command and settings, the model summary, metrics per epoch (CSV and
/// JSON), the training curves, a checkpoint after every epoch, and at the end the trained model,
/// the confusion matrix and the classification report. Every file is written atomically.
/// </summary>
public sealed class RunFolder : ITrainingObserver
{
    /// <summary>The data's class names when they are its own (saved in model files), null for Fashion-MNIST.</summary>
    IReadOnlyList<string>? savedClassNames;

    IReadOnlyList<string> ClassNames => savedClassNames ?? FashionMnist.ClassNames;

    public string Path { get; }
    readonly string command;
    Sequential? model;
    Optimizer? optimizer;
    TrainingOptions? options;
    readonly List<EpochMetrics> history = [];

    RunFolder(string path, string command)
    {
        Path = path;
        this.command = command;
    }

    public static string DefaultPath(string model) =>
        System.IO.Path.Combine("runs", $"{DateTime.Now:yyyyMMdd-HHmmss}-{model}");

    /// <summary>Why a new run cannot go into <paramref name="path"/>, or null when it can (it is absent or empty).</summary>
    public static string? RefuseExisting(string path, bool resumable = true) =>
        Directory.Exists(path) && Directory.EnumerateFileSystemEntries(path).Any()
            ? $"run folder {path} already exists; choose another --run-dir" + (resumable ? $" or continue it with --resume {path}" : "")
            : null;

    /// <summary>A new folder; refuses one that already holds a run (resume it with --resume instead).</summary>
    public static RunFolder Create(string path, string command)
    {
        if (RefuseExisting(path) is { } problem) throw new ArgumentException(problem);
        Directory.CreateDirectory(path);
        return new RunFolder(path, command);
    }

    /// <summary>An existing run to continue.</summary>
    public static RunFolder Open(string path, string command, IEnumerable<EpochMetrics> history)
    {
        // A process killed in the middle of a write leaves its temporary file (never the target) behind.
        foreach (var stale in Directory.EnumerateFiles(path, ".*.tmp*")) System.IO.File.Delete(stale);
        var folder = new RunFolder(path, command);
        folder.history.AddRange(history);
        return folder;
    }

    string File(string name) => System.IO.Path.Combine(Path, name);

    /// <param name="classNames">The data's class names (Fashion-MNIST's when not given): reports and model files use them.</param>
    public void Start(Sequential model, Optimizer optimizer, TrainingOptions options, IReadOnlyList<string>? classNames = null)
    {
        savedClassNames = classNames;
        this.model = model;
        this.optimizer = optimizer;
        this.options = options;
        AtomicFile.WriteText(File(RunFiles.Command), command + Environment.NewLine);
        AtomicFile.WriteText(File(RunFiles.Settings), JsonSerializer.Serialize(options, new JsonSerializerOptions { WriteIndented = true }));
        AtomicFile.WriteText(File(RunFiles.Summary), ModelSummary.Render(model));
    }

    public void OnEpochEnd(EpochMetrics metrics)
    {
        history.Add(metrics);
        WriteMetrics();
        Plots.TrainingCurves(history, File(RunFiles.TrainingPlot), model!.Name);
        TrainingState.Save(File(RunFiles.Checkpoint), model, optimizer!, options!, history, command, savedClassNames);
    }

    void WriteMetrics()
    {
        var csv = new StringBuilder("epoch,loss,accuracy,val_loss,val_accuracy,seconds,images_per_second,learning_rate\n");
        foreach (var m in history)
            csv.AppendLine(string.Join(',', new object[] { m.Epoch, m.Loss, m.Accuracy, m.ValLoss, m.ValAccuracy, m.Seconds, m.ImagesPerSecond, m.LearningRate }
                .Select(v => Convert.ToString(v, CultureInfo.InvariantCulture))));
        AtomicFile.WriteText(File(RunFiles.MetricsCsv), csv.ToString());
        AtomicFile.WriteText(File(RunFiles.MetricsJson), JsonSerializer.Serialize(history,
            new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
    }

    static readonly JsonSerializerOptions MetricsJson = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

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
        var history = ReadHistory(folder);
        string settings = System.IO.Path.Combine(folder, RunFiles.Settings);
        string model = System.IO.File.Exists(settings)
            ? JsonDocument.Parse(System.IO.File.ReadAllText(settings)).RootElement.GetProperty("Model").GetString() ?? "model"
            : "model";
        Plots.TrainingCurves(history, System.IO.Path.Combine(folder, RunFiles.TrainingPlot), model);
        if (!IsFinished(folder)) return;
        var test = JsonDocument.Parse(System.IO.File.ReadAllText(System.IO.Path.Combine(folder, RunFiles.TestResults))).RootElement;
        var rows = test.GetProperty("confusion").EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetInt32()).ToArray()).ToArray();
        var counts = new int[rows.Length, rows.Length];
        for (int r = 0; r < rows.Length; r++)
            for (int c = 0; c < rows.Length; c++) counts[r, c] = rows[r][c];
        string modelFile = System.IO.Path.Combine(folder, RunFiles.Model);
        var classNames = System.IO.File.Exists(modelFile) ? Checkpoint.Load(modelFile).Header.TrainedClassNames : FashionMnist.ClassNames;
        Plots.ConfusionMatrix(counts, classNames, System.IO.Path.Combine(folder, RunFiles.ConfusionPlot),
            ConfusionTitle(test.GetProperty("model").GetString()!, test.GetProperty("test_accuracy").GetDouble()));
    }

    /// <summary>The confusion matrix's title, the same whether a run draws it or `gpucnn plot` redraws it.</summary>
    static string ConfusionTitle(string model, double accuracy) => $"{model}: test accuracy {accuracy:P2}";

    /// <summary>Whether a run's final phase is complete: test_results.json is the last file it writes.</summary>
    public static bool IsFinished(string folder) => System.IO.File.Exists(System.IO.Path.Combine(folder, RunFiles.TestResults));

    /// <summary>Writes the final model and the test reports; test_results.json last, as the mark that the run is finished.</summary>
    public ClassificationMetrics Finish(Evaluation test)
    {
        TrainingState.Save(File(RunFiles.Model), model!, optimizer!, options!, history, command, savedClassNames);
        return WriteEvaluation(Path, model!, test, ClassNames);
    }

    /// <summary>Confusion matrix, classification report and test results of an evaluation, into folder.</summary>
    public static ClassificationMetrics WriteEvaluation(string folder, Sequential model, Evaluation test, IReadOnlyList<string> classNames)
    {
        string modelName = model.Name;
        var metrics = new ClassificationMetrics(test.Predictions, test.Labels, classNames);
        Directory.CreateDirectory(folder);
        Plots.ConfusionMatrix(metrics.Confusion, classNames, System.IO.Path.Combine(folder, RunFiles.ConfusionPlot),
            ConfusionTitle(modelName, test.Accuracy));
        AtomicFile.WriteText(System.IO.Path.Combine(folder, RunFiles.Report), metrics.Report());
        AtomicFile.WriteText(System.IO.Path.Combine(folder, RunFiles.TestResults), JsonSerializer.Serialize(new
        {
            model = modelName, parameters = model.TrainableCount + model.NonTrainableCount, test_loss = test.Loss, test_accuracy = test.Accuracy, images = test.Labels.Length,
            confusion = Enumerable.Range(0, classNames.Count).Select(r => Enumerable.Range(0, classNames.Count).Select(c => metrics.Confusion[r, c]).ToArray()).ToArray(),
        }, new JsonSerializerOptions { WriteIndented = true }));
        return metrics;
    }
}
