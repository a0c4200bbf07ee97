using System.Text.Json;
using System.Text.Json.Nodes;
using GpuCnn.Data;
using GpuCnn.Training;

namespace GpuCnn.Persistence;

/// <summary>
/// Reads the headers of format versions 1 and 2: {"Header": {...}, "Arrays": [...]}, where the
/// header held every training setting in one "Options" object (PascalCase, the schedule as a
/// number, NaN as a string). Fields that older files lack take the defaults those files meant.
/// </summary>
static class LegacyHeader
{
    public static (CheckpointHeader Header, List<(string Name, int[] Shape)> Arrays) Read(JsonElement root)
    {
        var h = root.Get("Header", JsonValueKind.Object);
        var o = h.Get("Options", JsonValueKind.Object);
        var (hyperparameters, data) = ReadOptions(o);
        var history = h.Get("History", JsonValueKind.Array).EnumerateArray().Select(m => new EpochMetrics(m.Int("Epoch"),
            Number(m, "Loss"), Number(m, "Accuracy"), Number(m, "ValLoss"), Number(m, "ValAccuracy"), Number(m, "Seconds"),
            Number(m, "ImagesPerSecond"), Number(m, "LearningRate"))).ToList();
        JsonObject? architecture = h.Optional("Architecture") is { } arch ? JsonNode.Parse(arch.GetRawText()) as JsonObject : null;
        string[]? classNames = h.Optional("ClassNames") is { } names ? [.. names.EnumerateArray().Select(n => n.GetString()!)] : null;
        var header = new CheckpointHeader(h.String("Model"), h.Ints("InputShape"), h.Int("Classes"), hyperparameters,
            h.String("Optimizer"), h.Long("OptimizerSteps"), history,
            new RunRecord(h.String("Command"), o.Optional("Ranks") is null ? 1 : o.Int("Ranks"), data), architecture, classNames);
        var arrays = root.Get("Arrays", JsonValueKind.Array).EnumerateArray().Select(e => (e.String("Name"), e.Ints("Shape"))).ToList();
        return (header, arrays);
    }

    /// <summary>The old all-in-one options record (checkpoints, and campaign.json's "Budget"), split into hyperparameters and data.</summary>
    public static (Hyperparameters Hyperparameters, DataSpec Data) ReadOptions(JsonElement o)
    {
        var defaults = new Hyperparameters();
        var augmentation = o.Optional("Augmentation");
        var hyperparameters = new Hyperparameters
        {
            Epochs = o.Int("Epochs"),
            BatchSize = o.Int("BatchSize"),
            LearningRate = (float)o.Double("LearningRate"),
            Optimizer = o.String("Optimizer"),
            Seed = o.Int("Seed"),
            ValidationSplit = o.Double("ValidationSplit"),
            Augmentation = augmentation is { } a ? new Augmentation(a.Int("MaxShift"), a.Bool("Flip")) : Augmentation.None,
            EarlyStoppingPatience = o.IntOrNull("EarlyStoppingPatience"),
            Schedule = o.Optional("Schedule") is { } s ? (LearningRateSchedule)s.GetInt32() : defaults.Schedule,
            StepEvery = o.Optional("StepEvery") is null ? defaults.StepEvery : o.Int("StepEvery"),
            StepGamma = o.Optional("StepGamma") is null ? defaults.StepGamma : (float)o.Double("StepGamma"),
            BatchNormRecalibration = o.Optional("BatchNormRecalibration") is null ? 0 : o.Int("BatchNormRecalibration"),
        };
        if (!Enum.IsDefined(hyperparameters.Schedule)) throw new JsonException($"'Schedule' is {(int)hyperparameters.Schedule}, not a schedule");
        var data = new DataSpec
        {
            DataDir = o.StringOrNull("DataDir"),
            CacheDir = o.StringOrNull("CacheDir"),
            TrainLimit = o.IntOrNull("TrainLimit"),
            ImageHeight = o.Optional("ImageHeight") is null ? 28 : o.Int("ImageHeight"),
            ImageWidth = o.Optional("ImageWidth") is null ? 28 : o.Int("ImageWidth"),
            Channels = o.Optional("Channels") is null ? 1 : o.Int("Channels"),
            SkipBadImages = o.Optional("SkipBadImages") is not null && o.Bool("SkipBadImages"),
        };
        return (hyperparameters, data);
    }

    /// <summary>A figure as these files wrote it: a number, or "NaN" and the infinities as strings.</summary>
    static double Number(JsonElement o, string name)
    {
        if (o.Optional(name) is not { } value) throw new JsonException($"'{name}' is missing");
        return value.ValueKind == JsonValueKind.String && double.TryParse(value.GetString(), System.Globalization.CultureInfo.InvariantCulture, out double named)
            ? named : o.Double(name);
    }
}
