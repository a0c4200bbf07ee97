using System.Text.Json.Nodes;
using GpuCnn.Data;
using GpuCnn.Models;
using GpuCnn.Persistence;
using GpuCnn.Tensors;
using GpuCnn.Training;

namespace GpuCnn.Tests.Training;

/// <summary>
/// The exponential moving average of the weights: its kernels against a double-precision
/// reference on every plan, the trainer's average against one kept on the host from the live
/// weights of every step, validation, evaluation and the saved model on the average, and the
/// settings field.
/// </summary>
[Collection("devices")]
public sealed class EmaTests(TestDevices devices)
{
    [Theory]
    [MemberData(nameof(TestDevices.Plans), MemberType = typeof(TestDevices))]
    public void EmaUpdateAndEmaSwapFollowTheirDefinitions(string plan)
    {
        var device = devices[plan];
        foreach (int length in new[] { 21, 1037 })
        {
            var start = TestData.Uniform(length, 21);
            var live = TestData.Uniform(length, 22);
            using var average = Tensor.Upload(device, start, [length], "average");
            using var weights = Tensor.Upload(device, live, [length], "weights");
            device.Kernels.EmaUpdate(average.View, weights.View, 0.9f);
            device.Kernels.EmaUpdate(average.View, weights.View, 0.999f);
            TestData.AssertClose(average.ToArray(), Reference.EmaUpdate(Reference.EmaUpdate(start.ToDouble(), live, 0.9f), live, 0.999f), 1e-6);

            var averaged = average.ToArray();
            device.Kernels.EmaSwap(average.View, weights.View);
            Assert.Equal(live, average.ToArray());
            Assert.Equal(averaged, weights.ToArray());
        }
    }

    [Theory]
    [InlineData(1, 0.999, false, 0.999)]
    [InlineData(1, 0.999, true, 2.0 / 11)]
    [InlineData(90, 0.999, true, 91.0 / 100)]
    [InlineData(100_000, 0.999, true, 0.999)]
    public void TheWarmUpDecayIsTheSmallerOfTheDecayAndOnePlusTOverTenPlusT(long step, float decay, bool warmup, double expected)
    {
        using var model = ModelZoo.Create("seed").Build(devices.Cpu, 1, 1);
        using var ema = new EmaWeights(model, decay, warmup);
        Assert.Equal(expected, ema.DecayAt(step), 6);
    }

    /// <summary>
    /// After every step (progress every batch, when the model holds the live weights) the host
    /// folds the live parameters and batch norm statistics into its own average, in double.
    /// </summary>
    sealed class HostAverage(Sequential model, Hyperparameters options) : ITrainingObserver
    {
        public double[] Parameters { get; private set; } = model.ParameterBuffer.ToArray().ToDouble();
        public double[] Statistics { get; private set; } = model.StateBuffer.ToArray().ToDouble();
        public List<float[]> Live { get; } = [];
        long step;

        public int ProgressInterval => 1;

        public void OnProgress(int epoch, int batch, int batches, double loss, double accuracy, TimeSpan elapsed)
        {
            step++;
            var live = model.ParameterBuffer.ToArray();
            Live.Add(live);
            Parameters = Reference.EmaUpdate(Parameters, live, options.EmaDecay, step, options.EmaWarmup);
            Statistics = Reference.EmaUpdate(Statistics, model.StateBuffer.ToArray(), options.EmaDecay, step, options.EmaWarmup);
        }
    }

    [Fact]
    public void TheTrainersAverageIsTheHostsAverageOfTheLiveWeightsAndValidationScoresIt()
    {
        var device = devices.Cpu;
        var options = new Hyperparameters { BatchSize = 16, Seed = 4, Epochs = 2, EmaDecay = 0.9f, EmaWarmup = true };
        using var rig = new TrainerRig(device, options, 96, 64, zooModel: "seed-bn");
        var host = new HostAverage(rig.Model, options);
        rig.Trainer.Observe(host).Run();

        // Two epochs of 4 steps; the epoch ends with the average in the model.
        Assert.Equal(8, host.Live.Count);
        Assert.True(rig.Ema!.AverageInModel);
        TestData.AssertClose(rig.Model.ParameterBuffer.ToArray(), host.Parameters, 1e-6);
        TestData.AssertClose(rig.Model.StateBuffer.ToArray(), host.Statistics, 1e-6);

        // The last validation scored the host's average, not the live weights.
        using var check = ModelZoo.Create("seed-bn").Build(device, options.BatchSize, 0);
        check.ParameterBuffer.CopyFrom([.. host.Parameters.Select(v => (float)v)]);
        check.StateBuffer.CopyFrom([.. host.Statistics.Select(v => (float)v)]);
        var average = Evaluator.Evaluate(check, rig.Validation!, rig.Loss);
        Assert.Equal(average.Loss, rig.Trainer.History[^1].ValLoss, 1e-5);
        Assert.Equal(average.Accuracy, rig.Trainer.History[^1].ValAccuracy);
        rig.Ema.UseLive();
        Assert.Equal(host.Live[^1], rig.Model.ParameterBuffer.ToArray());
        var live = Evaluator.Evaluate(rig.Model, rig.Validation!, rig.Loss);
        Assert.True(Math.Abs(live.Loss - average.Loss) > 1e-3, $"the live weights score {live.Loss}, the average {average.Loss}");

        // Training goes on from the live weights: without an average it trains the same weights, to the bit.
        using var plain = new TrainerRig(device, options with { EmaDecay = 0, EmaWarmup = false }, 96, 64, zooModel: "seed-bn");
        plain.Trainer.Run();
        Assert.Equal(host.Live[^1], plain.Model.ParameterBuffer.ToArray());
        Assert.Equal(plain.Trainer.History.Select(m => m.Loss), rig.Trainer.History.Select(m => m.Loss));
    }

    /// <summary>
    /// Through the library: after Fit, Evaluate, Predict and the saved file use the average (what
    /// validation scored), the file keeps the live weights beside it, and loading it gives both back.
    /// </summary>
    [Fact]
    public void EvaluatePredictAndTheSavedModelUseTheAverage()
    {
        var device = devices.Cpu;
        var train = SyntheticData.Images(96, 6);
        var validation = SyntheticData.Images(40, 7);
        var options = new Hyperparameters { BatchSize = 32, Seed = 2, EmaDecay = 0.8f };
        using var model = GpuCnn.Model.Compile(ModelZoo.Create("seed-bn"), device, options);
        model.Fit(train, 1, validation);

        var evaluation = model.Evaluate(validation);
        Assert.Equal(model.History[0].ValLoss, evaluation.Loss);
        Assert.Equal(model.History[0].ValAccuracy, evaluation.Accuracy);
        var averaged = model.Network.ParameterBuffer.ToArray();

        string path = Path.Combine(SyntheticData.TempFolder(), "ema.gpucnn");
        model.Save(path);
        var arrays = Checkpoint.Load(path).Arrays.ToDictionary(a => a.Name);
        var live = arrays[EmaWeights.LiveParametersName].Values;
        Assert.Equal(averaged.Length, live.Length);
        Assert.NotEqual(averaged, live);
        Assert.Equal(model.Network.StateBuffer.Length, arrays[EmaWeights.LiveStatisticsName].Values.Length);

        using var loaded = GpuCnn.Model.Load(path, device);
        Assert.Equal(averaged, loaded.Network.ParameterBuffer.ToArray());
        Assert.Equal(evaluation.Loss, loaded.Evaluate(validation).Loss);
        Assert.Equal(model.Predict(validation), loaded.Predict(validation));
        // What evaluate, predict and export read without the training state: the average too.
        var (network, _) = ModelFile.Load(path, device, 8);
        using (network) Assert.Equal(averaged, network.ParameterBuffer.ToArray());
    }

    [Fact]
    public void TheEmaFieldRoundTripsAndSettingsWithoutItReadAsNone()
    {
        string folder = SyntheticData.TempFolder();
        string Write(string name, string text)
        {
            string file = Path.Combine(folder, name);
            File.WriteAllText(file, text);
            return file;
        }
        var hyperparameters = new Hyperparameters { EmaDecay = 0.999f, EmaWarmup = true };
        string document = SettingsSchema.Document(hyperparameters, RunRecord.Library, "seed");
        Assert.Equal(hyperparameters, SettingsSchema.ReadDocument(Write("on.json", document)).Hyperparameters);
        Assert.Contains("\"ema\": null", SettingsSchema.Document(new Hyperparameters(), RunRecord.Library, "seed"));

        // Files written before the field: no average.
        var old = JsonNode.Parse(document)!.AsObject();
        old["hyperparameters"]!.AsObject().Remove("ema");
        Assert.Equal(new Hyperparameters(), SettingsSchema.ReadDocument(Write("old.json", old.ToJsonString())).Hyperparameters);

        old["hyperparameters"]!["ema"] = new JsonObject { ["decay"] = 1, ["warmup"] = false };
        var e = Assert.Throws<DataFileException>(() => SettingsSchema.ReadDocument(Write("bad.json", old.ToJsonString())));
        Messages.Says(e.Message, "bad.json");
        Messages.Says(e.Message, "'ema' has decay 1; it must be between 0 and 1 (both excluded)");
    }

    [Fact]
    public void AWarmUpWithoutADecayIsRefused()
    {
        using var model = ModelZoo.Create("seed").Build(devices.Cpu, 1, 1);
        var e = Assert.Throws<ArgumentException>(() => EmaWeights.For(model, new Hyperparameters { EmaWarmup = true }));
        Messages.Says(e.Message, "the EMA warm-up needs an EMA decay");
        Assert.Throws<ArgumentException>(() => new EmaWeights(model, 1f));
        Assert.Null(EmaWeights.For(model, new Hyperparameters()));
    }
}
