using System.Globalization;
using System.Text;
using System.Text.Json;
using GpuCnn.Data;
using GpuCnn.Devices;
using GpuCnn.Persistence;
using GpuCnn.Reporting;

namespace GpuCnn.Training;

/// <summary>
/// Trains several models with the same budget (epochs, images, batch size, seed) and writes a
/// side-by-side table (comparison.md, comparison.json) and their validation curves
/// (comparison.png). Each model's own run folder sits below.
/// </summary>
public sealed class Comparison(IReadOnlyList<string> models, TrainingOptions budget, DeviceKind device, DataOptions data,
    TextWriter output, string folder, string command)
{
    public IReadOnlyList<TrainingResult> Run()
    {
        var results = new List<TrainingResult>();
        foreach (var model in models)
        {
            output.WriteLine($"== {model} ==");
            var runFolder = RunFolder.Create(Path.Combine(folder, model), command);
            results.Add(new TrainingRun(budget with { Model = model }, device, data, output, false, runFolder).Execute());
            output.WriteLine();
        }
        Write(results);
        return results;
    }

    void Write(IReadOnlyList<TrainingResult> results)
    {
        string budgetText = $"{budget.Epochs} epochs, batch {budget.BatchSize}, {budget.Optimizer} lr {budget.LearningRate}, seed {budget.Seed}, " +
                            (budget.TrainLimit is { } n ? $"first {n} training images" : "all training images") +
                            $" ({budget.ValidationSplit:P0} held out for validation)";
        var table = new StringBuilder();
        table.AppendLine($"Budget: {budgetText}. Command: `{command}`");
        table.AppendLine();
        table.AppendLine("| model | parameters | epochs | time per epoch | images/s | best val accuracy | test accuracy | test loss |");
        table.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
            table.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Model} | {r.Parameters:N0} | {r.History.Count} | {r.History.Average(m => m.Seconds):F1} s | " +
                $"{r.History.Average(m => m.ImagesPerSecond):F0} | {r.History.Max(m => m.ValAccuracy):P2} | {r.Test.Accuracy:P2} | {r.Test.Loss:F4} |"));
        AtomicFile.WriteText(Path.Combine(folder, "comparison.md"), table.ToString());
        AtomicFile.WriteText(Path.Combine(folder, "comparison.json"), JsonSerializer.Serialize(new
        {
            budget, command,
            models = results.Select(r => new
            {
                model = r.Model, parameters = r.Parameters, epochs = r.History.Count, test_accuracy = r.Test.Accuracy,
                test_loss = r.Test.Loss, history = r.History,
            }),
        }, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        Plots.ValidationCurves(results.Select(r => (r.Model, r.History)).ToList(), Path.Combine(folder, "comparison.png"));
        output.Write(table);
        output.WriteLine($"Comparison written to {folder}");
    }
}
