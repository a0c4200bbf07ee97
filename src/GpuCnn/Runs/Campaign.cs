using GpuCnn.IO;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using GpuCnn.Data;
using GpuCnn.Devices;
using GpuCnn.Persistence;
using GpuCnn.Reporting;
using GpuCnn.Training;

namespace GpuCnn.Runs;

/// <summary>
/// What a comparison campaign trains: each model with each seed under one budget, on one data
/// set. Saved as campaign.json (the schema of <see cref="SettingsSchema"/>) so that it can be continued.
/// </summary>
public sealed record CampaignPlan(IReadOnlyList<string> Models, IReadOnlyList<int> Seeds, Hyperparameters Budget, DataSpec Data, string Command)
{
    public const string FileName = "campaign.json";

    public void Save(string folder) => AtomicFile.WriteText(Path.Combine(folder, FileName), SettingsSchema.Indented(w =>
    {
        w.WriteStartObject();
        w.WriteStartArray("models");
        foreach (var model in Models) w.WriteStringValue(model);
        w.WriteEndArray();
        w.WriteStartArray("seeds");
        foreach (int seed in Seeds) w.WriteNumberValue(seed);
        w.WriteEndArray();
        w.WritePropertyName("hyperparameters");
        SettingsSchema.Write(w, Budget);
        w.WritePropertyName("data");
        SettingsSchema.Write(w, Data);
        w.WriteString("command", Command);
        w.WriteEndObject();
    }));

    /// <summary>The plan of the campaign in <paramref name="folder"/> (also as older versions wrote it); a clear error naming the file when it is absent or unreadable.</summary>
    public static CampaignPlan Load(string folder)
    {
        string file = Path.Combine(folder, FileName);
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllText(file));
            var root = json.RootElement;
            var plan = root.TryGetProperty("Budget", out var budget)
                ? FromOptions(root.Get("Models", JsonValueKind.Array), root.Get("Seeds", JsonValueKind.Array), LegacyHeader.ReadOptions(budget), root.String("Command"))
                : new CampaignPlan(Strings(root.Get("models", JsonValueKind.Array)), root.Ints("seeds"),
                    SettingsSchema.ReadHyperparameters(root.Get("hyperparameters", JsonValueKind.Object)),
                    SettingsSchema.ReadDataSpec(root.Get("data", JsonValueKind.Object)), root.String("command"));
            return plan is { Models.Count: > 0, Seeds.Count: > 0 } ? plan : throw new JsonException("it names no model or no seed");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException)
        {
            throw new DataFileException(file, $"not a comparison campaign to continue ({e.Message})");
        }
    }

    static CampaignPlan FromOptions(JsonElement models, JsonElement seeds, (Hyperparameters Budget, DataSpec Data) options, string command) =>
        new(Strings(models), [.. seeds.EnumerateArray().Select(s => s.GetInt32())], options.Budget, options.Data, command);

    static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString() ?? throw new JsonException("a model name is null"))];
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
/// curves (comparison.png). Every run keeps its own folder, MODEL/seed-S, and is a
/// <see cref="TrainingSession"/> run. Run again on the same folder, it continues: finished runs
/// are read back, not redone, and an interrupted one resumes from its last checkpoint.
/// </summary>
/// <param name="tensorBoard">Where the runs' TensorBoard events go, each under MODEL/seed-S (null: each run's own folder).</param>
public sealed class Comparison(CampaignPlan plan, DeviceKind device, TextWriter output, string folder, string? tensorBoard = null)
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
        var session = new TrainingSession(output)
        {
            TensorBoardDirectory = tensorBoard is null ? null : RunPath(tensorBoard, model, seed),
        };
        string checkpoint = Path.Combine(path, RunFiles.Checkpoint);
        if (File.Exists(checkpoint))
        {
            output.WriteLine($"== {model}, seed {seed}: resuming after epoch {Checkpoint.Load(checkpoint).Header.History.Count} ==");
            session.Resume(new ResumeRequest(path) { Device = device, Command = plan.Command });
        }
        else
        {
            // A folder without a checkpoint was interrupted in its first epoch: nothing trained is lost. A live
            // owner keeps it, and starting the run then says who holds it; a killed one's lock is stale.
            if (Directory.Exists(path) && !RunLock.IsHeld(path)) Directory.Delete(path, recursive: true);
            output.WriteLine($"== {model}, seed {seed} ==");
            session.Start(new RunSpec { Model = model, Device = device, Folder = path, Command = plan.Command }, plan.Budget with { Seed = seed }, plan.Data);
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
                            (plan.Data.TrainLimit is { } n ? $"first {n} training images" : "all training images") +
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
        AtomicFile.WriteText(Path.Combine(folder, "comparison.json"), JsonSerializer.Serialize(new { seeds = plan.Seeds, command = plan.Command, models = summaries },
            new JsonSerializerOptions { WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        Plotting.Writer?.ValidationCurves(runs.Select(r => (plan.Seeds.Count > 1 ? $"{r.Model} (seed {r.Seed})" : r.Model, r.History)).ToList(),
            Path.Combine(folder, "comparison.png"));
        output.Write(table);
        output.WriteLine($"Comparison written to {folder}");
    }
}
