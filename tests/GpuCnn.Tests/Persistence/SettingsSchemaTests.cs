using System.Text.Json;
using GpuCnn.Persistence;
using GpuCnn.Training;

namespace GpuCnn.Tests.Persistence;

public sealed class SettingsSchemaTests
{
    /// <summary>The hyperparameters of docs/results/seed/model.gpucnn, a format-3 file written before the recipe toolbox's fields.</summary>
    const string EarlyFormat3 = """
        {"epochs":15,"batch_size":128,"learning_rate":0.001,"optimizer":"adam","seed":42,"validation_split":0.1,
         "augmentation":{"max_shift":0,"flip":false},"early_stopping_patience":null,"lr_schedule":"constant",
         "step_every":5,"step_gamma":0.5,"bn_recalibrate":0}
        """;

    [Fact]
    public void AnEarlyFormat3HeaderReadsWithTheToolboxDefaults()
    {
        using var json = JsonDocument.Parse(EarlyFormat3);
        var read = SettingsSchema.ReadHyperparameters(json.RootElement);
        var defaults = new Hyperparameters();
        Assert.Equal((15, 128, 42, "constant"), (read.Epochs, read.BatchSize, read.Seed, SettingsSchema.ScheduleName(read.Schedule)));
        Assert.Equal(defaults.Augmentation.EraseProbability, read.Augmentation.EraseProbability);
        Assert.Equal((defaults.WeightDecay, defaults.DecayAll, defaults.LabelSmoothing, defaults.WarmupEpochs, defaults.TestTimeFlip),
            (read.WeightDecay, read.DecayAll, read.LabelSmoothing, read.WarmupEpochs, read.TestTimeFlip));
    }

    [Fact]
    public void TheOriginalFieldsAreStillRequired()
    {
        using var json = JsonDocument.Parse(EarlyFormat3.Replace("\"step_gamma\":0.5,", ""));
        var e = Assert.Throws<JsonException>(() => SettingsSchema.ReadHyperparameters(json.RootElement));
        Assert.Contains("step_gamma", e.Message);
    }

    [Fact]
    public void EveryWrittenFieldReadsBack()
    {
        var h = new Hyperparameters
        {
            Epochs = 3, WeightDecay = 5e-4f, DecayAll = true, LabelSmoothing = 0.1f, WarmupEpochs = 1.5, TestTimeFlip = true,
            Augmentation = new Augmentation(2, true, 0.5),
        };
        string text = SettingsSchema.Indented(w => SettingsSchema.Write(w, h));
        using var json = JsonDocument.Parse(text);
        var read = SettingsSchema.ReadHyperparameters(json.RootElement);
        Assert.Equal(text, SettingsSchema.Indented(w => SettingsSchema.Write(w, read)));
    }
}
