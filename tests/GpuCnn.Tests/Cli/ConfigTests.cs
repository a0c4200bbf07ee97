using System.Text.Json;
using GpuCnn.Models;
using GpuCnn.Persistence;

namespace GpuCnn.Tests.Cli;

/// <summary>A run's settings given back with --config reproduce them; options beside it override them; the shipped recipes read.</summary>
public sealed class ConfigTests
{
    static JsonElement Settings(string run) => JsonDocument.Parse(File.ReadAllText(Path.Combine(run, RunFiles.Settings))).RootElement;

    [Fact]
    public void ARunsSettingsRoundTripThroughConfigAndOptionsOverrideThem()
    {
        string data = SyntheticData.WriteFolder(160, 32);
        string first = Path.Combine(SyntheticData.TempFolder(), "first");
        var trained = CliRunner.Run("train", "--data-dir", data, "--run-dir", first, "--epochs", "1", "--batch-size", "32", "--seed", "5",
            "--optimizer", "adamw", "--weight-decay", "0.01", "--lr", "0.002", "--lr-schedule", "onecycle", "--warmup", "0.5",
            "--label-smoothing", "0.1", "--augment-shift", "1", "--ema", "0.99", "--ema-warmup", "--train-limit", "150");
        Assert.True(trained.ExitCode == 0, trained.Error);

        string again = Path.Combine(SyntheticData.TempFolder(), "again");
        var rerun = CliRunner.Run("train", "--config", Path.Combine(first, RunFiles.Settings), "--run-dir", again);
        Assert.True(rerun.ExitCode == 0, rerun.Error);
        foreach (var key in new[] { "model", "hyperparameters", "data" })
            Assert.Equal(Settings(first).GetProperty(key).GetRawText(), Settings(again).GetProperty(key).GetRawText());
        // Same settings, same seed, same device: the same epoch.
        Assert.Equal(File.ReadAllLines(Path.Combine(first, RunFiles.MetricsCsv))[1].Split(',')[..5],
            File.ReadAllLines(Path.Combine(again, RunFiles.MetricsCsv))[1].Split(',')[..5]);

        string changed = Path.Combine(SyntheticData.TempFolder(), "changed");
        var overridden = CliRunner.Run("train", "--config", Path.Combine(first, RunFiles.Settings), "--run-dir", changed, "--lr", "0.005", "--seed", "6");
        Assert.True(overridden.ExitCode == 0, overridden.Error);
        var h = Settings(changed).GetProperty("hyperparameters");
        Assert.Equal(0.005, h.GetProperty("learning_rate").GetDouble(), 6);
        Assert.Equal(6, h.GetProperty("seed").GetInt32());
        Assert.Equal("adamw", h.GetProperty("optimizer").GetString());
        Assert.Equal("onecycle", h.GetProperty("lr_schedule").GetString());
        Assert.Equal(0.99, h.GetProperty("ema").GetProperty("decay").GetDouble(), 6);
        Assert.True(h.GetProperty("ema").GetProperty("warmup").GetBoolean());

        var missing = CliRunner.Run("train", "--config", Path.Combine(first, "nothing.json"));
        Assert.Equal(2, missing.ExitCode);
        Messages.Says(missing.Error, "nothing.json: file not found");
    }

    [Fact]
    public void EveryShippedRecipeReadsAndNamesAZooModel()
    {
        string folder = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "recipes");
        var recipes = Directory.GetFiles(folder, "*.json");
        Assert.NotEmpty(recipes);
        foreach (var recipe in recipes)
        {
            var (model, hyperparameters, data, _) = SettingsSchema.ReadDocument(recipe);
            Assert.Contains(model, ModelZoo.Names);
            Assert.True(hyperparameters.Epochs > 0, recipe);
            Assert.NotNull(data);
        }
    }
}
