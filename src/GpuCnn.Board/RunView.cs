using System.Text.Json;
using GpuCnn.Persistence;
using GpuCnn.Runs;

namespace GpuCnn.Board;

/// <summary>What the page is told about runs, read from their folders at the moment it asks.</summary>
public static class RunView
{
    /// <summary>A run's state: finished (test_results.json is there), training (a live process owns the folder) or stopped.</summary>
    public static string State(string folder) =>
        RunFolder.IsFinished(folder) ? "finished" : RunLock.IsHeld(folder) ? "training" : "stopped";

    /// <summary>One line of the run list.</summary>
    public sealed record Entry(string Id, string? Model, int Epochs, int? PlannedEpochs, double? ValAccuracy, double? TestAccuracy,
        string State, DateTime Updated);

    /// <summary>Every run below the root, the most recently written first.</summary>
    public static IReadOnlyList<Entry> List(RunsDirectory runs) =>
        runs.List().Select(r => Summarise(runs, r.Id, r.Folder)).OrderByDescending(e => e.Updated).ThenBy(e => e.Id, StringComparer.Ordinal).ToList();

    static Entry Summarise(RunsDirectory runs, string id, string folder)
    {
        var metrics = Metrics(runs, folder);
        var settings = Json(runs, folder, RunFiles.Settings);
        var test = Json(runs, folder, RunFiles.TestResults);
        var updated = new[] { RunFiles.MetricsCsv, RunFiles.Settings, RunFiles.TestResults }
            .Select(f => runs.FileIn(folder, f)).Where(f => f is not null).Select(f => File.GetLastWriteTimeUtc(f!)).DefaultIfEmpty(DateTime.MinValue).Max();
        return new Entry(id, Text(test, "model") ?? Text(settings, "model"), metrics.Count, PlannedEpochs(settings),
            metrics.Count > 0 ? metrics[^1].GetValueOrDefault("val_accuracy") : null, Number(test, "test_accuracy"), State(folder), updated);
    }

    /// <summary>A run in full: its metrics, settings, records of how it was made, and its test results with the class names.</summary>
    public static object Details(RunsDirectory runs, string id, string folder)
    {
        var test = Json(runs, folder, RunFiles.TestResults);
        return new
        {
            id,
            state = State(folder),
            metrics = Metrics(runs, folder),
            settings = Json(runs, folder, RunFiles.Settings),
            command = ReadText(runs, folder, RunFiles.Command),
            summary = ReadText(runs, folder, RunFiles.Summary),
            report = ReadText(runs, folder, RunFiles.Report),
            test,
            classNames = test is null ? null : ClassNames(runs, folder),
            files = RunsDirectory.ServedFiles.Where(f => runs.FileIn(folder, f) is not null).ToList(),
        };
    }

    public static IReadOnlyList<Dictionary<string, double?>> Metrics(RunsDirectory runs, string folder) =>
        runs.FileIn(folder, RunFiles.MetricsCsv) is { } file ? MetricsTable.Read(file) : [];

    static string? ReadText(RunsDirectory runs, string folder, string name)
    {
        try
        {
            return runs.FileIn(folder, name) is { } file ? File.ReadAllText(file) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>A JSON file of the run; null when absent or not JSON (a file of another version is shown as far as it reads).</summary>
    static JsonElement? Json(RunsDirectory runs, string folder, string name)
    {
        if (ReadText(runs, folder, name) is not { } text) return null;
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A top-level property by name, whatever its case (settings.json has been written in PascalCase and in snake_case).</summary>
    static JsonElement? Property(JsonElement? json, string name) =>
        json is { ValueKind: JsonValueKind.Object } o ? o.EnumerateObject().Where(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
            .Select(p => (JsonElement?)p.Value).FirstOrDefault() : null;

    static string? Text(JsonElement? json, string name) => Property(json, name) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;

    static double? Number(JsonElement? json, string name) => Property(json, name) is { ValueKind: JsonValueKind.Number } v ? v.GetDouble() : null;

    /// <summary>The epochs a run is to train: under "hyperparameters" in settings.json, at its top in runs of older versions.</summary>
    static int? PlannedEpochs(JsonElement? settings) =>
        (Number(settings, "epochs") ?? Number(Property(settings, "hyperparameters"), "epochs")) is { } epochs ? (int)epochs : null;

    /// <summary>The class names the trained model stores (the confusion matrix's labels); null when its file does not read.</summary>
    static IReadOnlyList<string>? ClassNames(RunsDirectory runs, string folder)
    {
        if (runs.FileIn(folder, RunFiles.Model) is not { } model) return null;
        try
        {
            return Checkpoint.Load(model).Header.TrainedClassNames;
        }
        catch (Exception e) when (e is CheckpointException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
