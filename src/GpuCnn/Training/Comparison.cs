using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using GpuCnn.Data;
using GpuCnn.Devices;
using GpuCnn.Persistence;
using GpuCnn.Reporting;

namespace GpuCnn.Training;

/// <summary>What a comparison campaign trains: each model with each seed under one budget. Saved as campaign.json so that it can be continued.</summary>
public sealed record CampaignPlan(IReadOnlyList<string> Models, IReadOnlyList<int> Seeds, TrainingOptions Budget, string Command)
{
    public const string FileName = "campaign.json";

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public void Save(string folder) => AtomicFile.WriteText(Path.Combine(folder, FileName), JsonSerializer.Serialize(this, Json));

    /// <summary>The plan of the campaign in <paramref name="folder"/>; a clear error naming the file when it is absent or unreadable.</summary>
    public static CampaignPlan Load(string folder)
    {
        string file = Path.Combine(folder, FileName);
        try
        {
            return JsonSerializer.Deserialize<CampaignPlan>(File.ReadAllText(file), Json) is { Models.Count: > 0, Seeds.Count: > 0 } plan
                ? plan : throw new JsonException("it names no model or no seed");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new DataFileException(file, $"not a comparison campaign to continue ({e.Message})");
        }
    }
}

/// <summary>One finished run of a campaign, as its run folder records it.</summary>
public sealed record CampaignRun(string Model, int Seed, int Parameters, IReadOnlyList<EpochMetrics> History, double TestAccuracy,
    double TestLoss, string Folder)
{
    /// <summary>Reads metrics.json and test_results.json of a finished run folder.</summary>
    public static CampaignRun Read(string folder, string model, int seed)
    {
        var history = RunFolder.ReadHistory(folder);
        using var test = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, RunFiles.TestResults)));
        var root = test.RootElement;
        int parameters = root.TryGetProperty("parameters", out var p) ? p.GetInt32() : 0;
        return new CampaignRun(model, seed, parameters, history, root.GetProperty("test_accuracy").GetDouble(),
            root.GetProperty("test_loss").GetDouble(), folder);
    }
}

/// <summary>
/// Trains each model with each seed under the same budget and writes a table of mean ± standard
/// deviation with the per-seed values (comparison.md, comparison.json) and the validation
/// curves (comparison.png). Every run keeps its own folder, MODEL/seed-S. Run again on the same
/// folder, it continues: finished runs are read back, not redone, and an interrupted one resumes
/// from its last checkpoint.
/// </summary>
public sealed class Comparison(CampaignPlan plan, DeviceKind device, DataOptions data, TextWriter output, string folder)
{
    public IReadOnlyList<CampaignRun> Run()
    {
        Directory.CreateDirectory(folder);
        if (!File.Exists(Path.Combine(folder, CampaignPlan.FileName))) plan.Save(folder);
        var runs = new List<CampaignRun>();
        foreach (var model in plan.Models)
            foreach (int seed in plan.Seeds)
                runs.Add(RunOne(model, seed));
        Write(runs);
        return runs;
    }

    public static string RunPath(string folder, string model, int seed) => Path.Combine(folder, model, $"seed-{seed}");

    CampaignRun RunOne(string model, int seed)
    {
        string path = RunPath(folder, model, seed);
        if (RunFolder.IsFinished(path))
        {
            output.WriteLine($"== {model}, seed {seed}: finished before, read from {path} ==");
            return CampaignRun.Read(path, model, seed);
        }
        string checkpoint = Path.Combine(path, RunFiles.Checkpoint);
        if (File.Exists(checkpoint))
        {
            var header = Checkpoint.Load(checkpoint).Header;
            output.WriteLine($"== {model}, seed {seed}: resuming after epoch {header.History.Count} ==");
            new TrainingRun(header.Options, device, data, output, false, RunFolder.Open(path, header.Command, header.History), path).Execute();
        }
        else
        {
            // A folder without a checkpoint was interrupted in its first epoch: nothing trained is lost.
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
            output.WriteLine($"== {model}, seed {seed} ==");
            var options = plan.Budget with { Model = model, Seed = seed };
            new TrainingRun(options, device, data, output, false, RunFolder.Create(path, plan.Command)).Execute();
        }
        output.WriteLine();
        return CampaignRun.Read(path, model, seed);
    }

    /// <summary>Mean and sample standard deviation (n - 1; 0 for one value).</summary>
    public static (double Mean, double Sd) MeanSd(IReadOnlyList<double> values)
    {
        double mean = values.Average();
        double sd = values.Count > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1)) : 0;
        return (mean, sd);
    }

    void Write(IReadOnlyList<CampaignRun> runs)
    {
        var budget = plan.Budget;
        string budgetText = $"{budget.Epochs} epochs, batch {budget.BatchSize}, {budget.Optimizer} lr {budget.LearningRate} ({budget.Schedule.ToString().ToLowerInvariant()}), " +
                            (budget.TrainLimit is { } n ? $"first {n} training images" : "all training images") +
                            $" ({budget.ValidationSplit:P0} held out for validation)" +
                            (budget.Augmentation.MaxShift > 0 || budget.Augmentation.Flip ? $", shifts up to {budget.Augmentation.MaxShift} px{(budget.Augmentation.Flip ? " and flips" : "")}" : "") +
                            (budget.BatchNormRecalibration > 0 ? $", PreciseBN over {budget.BatchNormRecalibration} batches for models with batch norm" : "") +
                            $"; seeds {string.Join(", ", plan.Seeds)}";
        string Percent(double v) => v.ToString("P2", CultureInfo.InvariantCulture);
        string PlusMinus((double Mean, double Sd) s) => plan.Seeds.Count > 1
            ? $"{(100 * s.Mean).ToString("F2", CultureInfo.InvariantCulture)} ± {(100 * s.Sd).ToString("F2", CultureInfo.InvariantCulture)} %"
            : Percent(s.Mean);
        var table = new StringBuilder();
        table.AppendLine($"Budget: {budgetText}. Command: `{plan.Command}`");
        table.AppendLine();
        table.AppendLine("| model | parameters | epochs | time per epoch | images/s | train accuracy (last epoch) | best val accuracy | test accuracy | per seed | test loss |");
        table.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|");
        var summaries = new List<object>();
        foreach (var group in runs.GroupBy(r => r.Model))
        {
            var list = group.ToList();
            var test = MeanSd(list.Select(r => r.TestAccuracy).ToList());
            var train = MeanSd(list.Select(r => r.History[^1].Accuracy).ToList());
            var val = MeanSd(list.Select(r => r.History.Max(m => m.ValAccuracy)).ToList());
            var loss = MeanSd(list.Select(r => r.TestLoss).ToList());
            table.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {group.Key} | {list[0].Parameters:N0} | {list.Average(r => r.History.Count):0.#} | {list.Average(r => r.History.Average(m => m.Seconds)):F1} s | " +
                $"{list.Average(r => r.History.Average(m => m.ImagesPerSecond)):F0} | {PlusMinus(train)} | {PlusMinus(val)} | **{PlusMinus(test)}** | " +
                $"{string.Join(", ", list.Select(r => $"{r.Seed}: {Percent(r.TestAccuracy)}"))} | {loss.Mean:F4} |"));
            summaries.Add(new
            {
                model = group.Key, parameters = list[0].Parameters, test_accuracy_mean = test.Mean, test_accuracy_sd = test.Sd,
                train_accuracy_mean = train.Mean, best_val_accuracy_mean = val.Mean, test_loss_mean = loss.Mean,
                runs = list.Select(r => new { seed = r.Seed, folder = Path.GetRelativePath(folder, r.Folder), epochs = r.History.Count, test_accuracy = r.TestAccuracy, test_loss = r.TestLoss }),
            });
        }
        AtomicFile.WriteText(Path.Combine(folder, "comparison.md"), table.ToString());
        AtomicFile.WriteText(Path.Combine(folder, "comparison.json"), JsonSerializer.Serialize(new { budget, seeds = plan.Seeds, command = plan.Command, models = summaries },
            new JsonSerializerOptions { WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        Plots.ValidationCurves(runs.Select(r => (plan.Seeds.Count > 1 ? $"{r.Model} (seed {r.Seed})" : r.Model, r.History)).ToList(),
            Path.Combine(folder, "comparison.png"));
        output.Write(table);
        output.WriteLine($"Comparison written to {folder}");
    }
}
