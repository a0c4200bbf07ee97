using GpuCnn.Layers;
using GpuCnn.Models;
using GpuCnn.Tensors;
using GpuCnn.Training;

namespace GpuCnn.Tests.Api;

/// <summary>Fine-tuning through the library: weights loaded by layer name and shape, a new head, frozen layers.</summary>
[Collection("devices")]
public sealed class FineTuningTests(TestDevices devices)
{
    static readonly string[] FiveClasses = ["a", "b", "c", "d", "e"];

    /// <summary>conv2d, batch_normalization, re_lu, max_pooling2d, conv2d_1, flatten, (a batch norm named extra,) dense, dense_1 (the head).</summary>
    static Sequential Net(int classes, int firstFilters = 8, string? extra = null) => new("net", [28, 28, 1],
    [
        new Conv2D(firstFilters, 3),
        new BatchNormalization(),
        new ReLU(),
        new MaxPool2D(2),
        new Conv2D(8, 3, Activation.Relu),
        new Flatten(),
        .. extra is null ? Array.Empty<Layer>() : [new BatchNormalization { Name = extra }],
        new Dense(16, Activation.Relu),
        new Dense(classes),
    ]);

    static readonly Hyperparameters Settings = new() { BatchSize = 32, ValidationSplit = 0, Seed = 7 };

    /// <summary>A source trained for an epoch, so its weights and batch norm's moving statistics are far from any fresh draw.</summary>
    GpuCnn.Model TrainedSource()
    {
        var source = GpuCnn.Model.Compile(Net(10), devices.Cpu, Settings with { Seed = 1 });
        source.Fit(SyntheticData.Images(128, 3), epochs: 1);
        return source;
    }

    static Dictionary<string, float[]> Values(GpuCnn.Model model) => model.Network.AllParameters.ToDictionary(p => p.Name, p => p.Value.ToArray());

    [Fact]
    public void LoadingMatchesNamesAndShapesAndGivesANewHeadForOtherClasses()
    {
        using var source = TrainedSource();
        string file = Path.Combine(SyntheticData.TempFolder(), "source.gpucnn");
        source.Save(file);
        var theirs = Values(source);
        Assert.NotEqual(new float[8], theirs["batch_normalization/moving_mean"]);

        using var target = GpuCnn.Model.Compile(Net(5), devices.Cpu, Settings, FiveClasses);
        using var fresh = GpuCnn.Model.Compile(Net(5), devices.Cpu, Settings, FiveClasses);
        target.Fit(Relabelled(SyntheticData.Images(64, 4), 5), epochs: 1);
        var report = target.LoadWeightsFrom(file);

        Assert.Equal(["conv2d: loaded", "batch_normalization: loaded", "conv2d_1: loaded", "dense: loaded",
            "dense_1: reinitialised (a new head: 5 classes here, 10 in the source)"], report.Select(r => r.ToString()));
        Assert.Equal(Path.GetFullPath(file), target.Run.InitFrom);
        var mine = Values(target);
        foreach (var name in mine.Keys.Where(n => !n.StartsWith("dense_1/")))
            Assert.Equal(theirs[name], mine[name]); // weights and moving statistics, to the bit
        // The new head is the one a fresh compile with the same seed draws, though the target had trained.
        Assert.Equal(Values(fresh)["dense_1/kernel"], mine["dense_1/kernel"]);
        Assert.Equal(Values(fresh)["dense_1/bias"], mine["dense_1/bias"]);

        // A model in memory loads the same way.
        using var again = GpuCnn.Model.Compile(Net(5), devices.Cpu, Settings, FiveClasses);
        Assert.Equal(report, again.LoadWeightsFrom(source));
    }

    [Fact]
    public void OtherShapesAndNamesKeepFreshWeightsAndTheSameClassesKeepTheHead()
    {
        using var source = TrainedSource();
        using var target = GpuCnn.Model.Compile(Net(10, firstFilters: 16, extra: "extra"), devices.Cpu, Settings);
        using var fresh = GpuCnn.Model.Compile(Net(10, firstFilters: 16, extra: "extra"), devices.Cpu, Settings);
        var report = target.LoadWeightsFrom(source);
        Assert.Equal(new[]
        {
            "conv2d: reinitialised (shape mismatch: conv2d/kernel is (3, 3, 1, 16) here, (3, 3, 1, 8) in the source)",
            "batch_normalization: reinitialised (shape mismatch: batch_normalization/gamma is (16) here, (8) in the source)",
            "conv2d_1: reinitialised (shape mismatch: conv2d_1/kernel is (3, 3, 16, 8) here, (3, 3, 8, 8) in the source)",
            "extra: new (the source has no layer of that name)",
            "dense: loaded",
            "dense_1: loaded",
        }, report.Select(r => r.ToString()));
        var (mine, theirs, initial) = (Values(target), Values(source), Values(fresh));
        Assert.Equal(theirs["dense_1/kernel"], mine["dense_1/kernel"]);
        foreach (var name in new[] { "conv2d/kernel", "batch_normalization/moving_variance", "extra/moving_mean" })
            Assert.Equal(initial[name], mine[name]);
    }

    [Fact]
    public void FrozenLayersStayBitIdenticalHaveNoOptimizerStateAndResumeFrozen()
    {
        using var source = TrainedSource();
        using var model = GpuCnn.Model.Compile(Net(10), devices.Cpu, Settings);
        int fullState = model.OptimizerState[0].Value.Length;
        model.LoadWeightsFrom(source);
        model.Freeze("max_pooling2d");
        Assert.Equal("max_pooling2d", model.Hyperparameters.Freeze);
        Assert.Equal(4, model.Network.FrozenLayers);

        // Adam's moments cover the layers after the frozen ones, no more: conv2d's 72 + 8 weights and BN's γ and β (8 each) are left out.
        Assert.Equal(2, model.OptimizerState.Count);
        Assert.All(model.OptimizerState, s => Assert.Equal(fullState - 96, s.Value.Length));
        var summary = ModelSummary.Render(model.Network);
        Messages.Says(summary, "Non-trainable params: 112"); // 96 frozen and BN's 16 statistics
        Messages.Says(summary, "Frozen: conv2d to max_pooling2d (4 layers)");

        var before = Values(model);
        var train = SyntheticData.Images(128, 5);
        model.Fit(train, epochs: 2);
        var after = Values(model);
        string[] frozen = ["conv2d/kernel", "conv2d/bias", "batch_normalization/gamma", "batch_normalization/beta",
            "batch_normalization/moving_mean", "batch_normalization/moving_variance"];
        foreach (var name in frozen) Assert.Equal(before[name], after[name]);
        foreach (var name in after.Keys.Except(frozen)) Assert.NotEqual(before[name], after[name]);

        // Saved and loaded (as --resume does), it trains on frozen, from its optimizer state.
        string file = Path.Combine(SyntheticData.TempFolder(), "frozen.gpucnn");
        model.Save(file);
        using var resumed = GpuCnn.Model.Load(file, devices.Cpu);
        Assert.Equal(4, resumed.Network.FrozenLayers);
        Assert.Equal(model.OptimizerState[0].Value.ToArray(), resumed.OptimizerState[0].Value.ToArray());
        resumed.Fit(train, epochs: 1);
        var resumedValues = Values(resumed);
        foreach (var name in frozen) Assert.Equal(before[name], resumedValues[name]);
        Assert.NotEqual(after["dense/kernel"], resumedValues["dense/kernel"]);

        // Unfrozen, every layer trains again, from a fresh optimizer over all of them.
        resumed.Freeze(null);
        Assert.All(resumed.OptimizerState, s => Assert.Equal(fullState, s.Value.Length));
        resumed.Fit(train, epochs: 1);
        Assert.NotEqual(before["conv2d/kernel"], Values(resumed)["conv2d/kernel"]);
    }

    [Fact]
    public void FrozenBatchNormNormalisesWithItsMovingStatisticsInTraining()
    {
        using var model = TrainedSource();
        var pixels = SyntheticData.Images(32, 9).Pixels.Select(v => v / 255f).ToArray();
        using var x = Tensor.Upload(devices.Cpu, pixels, [32, 28, 28, 1], "batch");
        // The model has no dropout, so the training pass differs from inference only in batch norm (which it moves).
        float[] training = model.Network.Forward(x, new PassContext(true, 5)).ToArray();
        float[] inference = model.Network.Forward(x, PassContext.Inference).ToArray();
        Assert.NotEqual(inference, training);

        model.Freeze("batch_normalization");
        var statistics = Values(model)["batch_normalization/moving_mean"];
        Assert.Equal(inference, model.Network.Forward(x, new PassContext(true, 5)).ToArray());
        Assert.Equal(inference, model.Network.Forward(x, PassContext.Recalibration(0)).ToArray());
        Assert.Equal(statistics, Values(model)["batch_normalization/moving_mean"]); // neither pass moved them
    }

    [Fact]
    public void FreezingNamesTheLayersWhenItCannot()
    {
        using var model = GpuCnn.Model.Compile(Net(10), devices.Cpu, Settings);
        var unknown = Assert.Throws<ArgumentException>(() => model.Freeze("conv9"));
        Assert.Equal("model 'net' has no layer 'conv9' to freeze up to; its layers: conv2d, batch_normalization, re_lu, max_pooling2d, " +
                     "conv2d_1, flatten, dense, dense_1.", unknown.Message);
        var everything = Assert.Throws<ArgumentException>(() => model.Freeze("dense_1"));
        Messages.Says(everything.Message, "freezing up to dense_1 leaves no weights to train");
        Assert.Equal(0, model.Network.FrozenLayers);
        Assert.Null(model.Hyperparameters.Freeze);
    }

    static GpuCnn.Data.ImageSet Relabelled(GpuCnn.Data.ImageSet images, int classes) =>
        new(images.Pixels, [.. images.Labels.Select(l => (byte)(l % classes))], 28, 28);
}
