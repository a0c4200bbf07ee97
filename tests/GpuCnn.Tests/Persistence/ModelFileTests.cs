using System.Text.Json.Nodes;
using GpuCnn.Layers;
using GpuCnn.Models;
using GpuCnn.Persistence;
using GpuCnn.Tensors;
using GpuCnn.Training;

namespace GpuCnn.Tests.Persistence;

/// <summary>Model files describe their architecture (format version 2): a model that is not in the zoo saves and loads; version 1 files still load.</summary>
[Collection("devices")]
public sealed class ModelFileTests(TestDevices devices)
{
    /// <summary>Every layer kind, with options away from their defaults, in a model the zoo does not have.</summary>
    static Sequential Custom() => new("my-net", [20, 20, 1],
    [
        new Conv2D(16, 3, Activation.Relu, Padding.Same, stride: 1),
        new BatchNormalization(momentum: 0.9f, epsilon: 1e-4f),
        new ReLU(),
        new MaxPool2D(2),
        new ResidualBlock(32, stride: 2),
        new Conv2D(16, 1, useBias: false),
        new GlobalAvgPool2D(),
        new Dropout(0.3f),
        new Dense(24, Activation.Relu),
        new Dense(7),
    ]);

    static float[] Forward(Sequential model, float[] input)
    {
        using var x = Tensor.Zeros(model.Device, [4, .. model.InputShape]);
        x.CopyFrom(input);
        return model.Forward(x, PassContext.Inference).ToArray();
    }

    [Fact]
    public void ACustomModelRoundTripsThroughAFile()
    {
        var device = devices.Cpu;
        using var model = Custom().Build(device, 4, 9);
        using var optimizer = Optimizer.Create("adam", device, model.ParameterBuffer, model.GradientBuffer, 1e-3f);
        string path = Path.Combine(SyntheticData.TempFolder(), "my-net.gpucnn");
        TrainingState.Save(path, model, optimizer, new Hyperparameters(), [], new RunRecord("test"));

        var (loaded, header) = ModelFile.Load(path, device, 4);
        using (loaded)
        {
            Assert.Equal(model.Architecture().ToJsonString(), loaded.Architecture().ToJsonString());
            Assert.Equal("my-net", header.Model);
            var input = TestData.Uniform(4 * 400, 3);
            Assert.Equal(Forward(model, input), Forward(loaded, input));
        }
    }

    /// <summary>
    /// Files written by format versions 1 and 2 (fixtures committed beside this test, written by
    /// GpuCnn before format 3): they load with every setting in its new place, predict as they
    /// did when saved, train further, and come back the same from a version 3 file.
    /// </summary>
    [Theory]
    [InlineData("v1-resnet.gpucnn")]
    [InlineData("v2-tiny-net.gpucnn")]
    public void FilesOfFormatVersions1And2StillLoad(string fixture)
    {
        var device = devices.Cpu;
        string path = Path.Combine(AppContext.BaseDirectory, "Persistence", "Fixtures", fixture);
        var probe = System.Text.Json.JsonSerializer.Deserialize<float[]>(File.ReadAllText(Path.ChangeExtension(path, ".probe.json")))!;
        var input = TestData.Uniform(4 * 784, 11);
        using var model = GpuCnn.Model.Load(path, device);
        var h = model.Hyperparameters;
        var data = model.Run.Data!;
        if (fixture.StartsWith("v1"))
        {
            Assert.Equal(("resnet", "sgd", 0.05f, 3, 32, 3, LearningRateSchedule.Step, 2), (model.Network.Name, h.Optimizer, h.LearningRate, h.Epochs, h.BatchSize, h.Seed, h.Schedule, h.StepEvery));
            Assert.False(model.OwnPictures);
            Assert.Single(model.History);
        }
        else
        {
            Assert.Equal(("tiny-net", "adam", 0.002f, 4, 32, 7, LearningRateSchedule.Cosine, 0.25), (model.Network.Name, h.Optimizer, h.LearningRate, h.Epochs, h.BatchSize, h.Seed, h.Schedule, h.ValidationSplit));
            Assert.Equal((new Augmentation(2, true), (int?)3, 2), (h.Augmentation, h.EarlyStoppingPatience, h.BatchNormRecalibration));
            Assert.Equal(("/data/pictures", true, "GpuCnn library"), (data.DataDir, data.SkipBadImages, model.Run.Command));
            Assert.Equal("nine", model.ClassNames[9]);
            Assert.Equal(2, model.History.Count);
        }
        Assert.Equal(probe, Forward(model.Network, input));

        string again = Path.Combine(SyntheticData.TempFolder(), "v3.gpucnn");
        model.Save(again);
        Assert.Equal(Checkpoint.FormatVersion, BitConverter.ToInt32(File.ReadAllBytes(again), 8));
        using (var reloaded = GpuCnn.Model.Load(again, device))
        {
            Assert.Equal(model.Hyperparameters, reloaded.Hyperparameters);
            Assert.Equal(model.Run with { Data = null }, reloaded.Run with { Data = null });
            Assert.Equal(model.Run.Data, reloaded.Run.Data);
            Assert.Equal(model.History, reloaded.History);
            Assert.Equal(probe, Forward(reloaded.Network, input));
        }
        // Its optimizer state came back: it trains further from where it stood.
        model.Fit(SyntheticData.Images(64, 3), epochs: 1);
        Assert.Equal(model.History.Count, model.Hyperparameters.Epochs);
    }

    [Fact]
    public void AnArchitectureThatCannotBeReadIsOneLineNamingTheFileAndTheLayer()
    {
        var device = devices.Cpu;
        using var model = Custom().Build(device, 4, 9);
        var architecture = model.Architecture();
        architecture["layers"]![1]!["kind"] = "Attention";
        var header = new CheckpointHeader("my-net", model.InputShape, 7, new Hyperparameters(), "adam", 0, [], new RunRecord("test"), architecture);
        string path = Path.Combine(SyntheticData.TempFolder(), "odd.gpucnn");
        Checkpoint.Save(path, header, Checkpoint.ModelArrays(model));
        var e = Assert.Throws<CheckpointException>(() => ModelFile.Load(path, device, 4));
        Messages.Says(e.Message, $"{path}: layer batch_normalization: unknown layer kind 'Attention'");
    }

    /// <summary>
    /// `export --gpucnn` writes the model without its optimizer state (how docs/results keeps its
    /// models): a third of the size for Adam, it predicts the same, evaluates through the command
    /// line, and trains further from a fresh optimizer. A file with part of the state is still refused.
    /// </summary>
    [Fact]
    public void AModelWithoutOptimizerStateEvaluatesPredictsAndTrainsFurther()
    {
        var device = devices.Cpu;
        string data = SyntheticData.WriteFolder(96, 32);
        string run = Path.Combine(SyntheticData.TempFolder(), "run"), slim = Path.Combine(SyntheticData.TempFolder(), "slim.gpucnn");
        var trained = Cli.CliRunner.Run("train", "--data-dir", data, "--epochs", "1", "--batch-size", "32", "--run-dir", run);
        Assert.True(trained.ExitCode == 0, trained.Error);
        var exported = Cli.CliRunner.Run("export", run, "--gpucnn", slim);
        Assert.True(exported.ExitCode == 0, exported.Error);
        long full = new FileInfo(Path.Combine(run, RunFiles.Model)).Length, weights = new FileInfo(slim).Length;
        Assert.InRange(weights, full / 3 - 64 * 1024, full / 3 + 64 * 1024);

        var input = TestData.Uniform(4 * 784, 5);
        using var original = GpuCnn.Model.Load(run, device);
        using var loaded = GpuCnn.Model.Load(slim, device);
        Assert.Equal(Forward(original.Network, input), Forward(loaded.Network, input));
        Assert.Equal(original.History, loaded.History);
        var evaluated = Cli.CliRunner.Run("evaluate", slim, "--data-dir", data);
        Assert.True(evaluated.ExitCode == 0, evaluated.Error);
        Messages.Says(evaluated.Output, "after 1 epochs: test accuracy");
        loaded.Fit(SyntheticData.Images(64, 3), epochs: 1);
        Assert.Equal(2, loaded.History.Count);

        var (header, arrays) = Checkpoint.Load(Path.Combine(run, RunFiles.Model));
        string partial = Path.Combine(SyntheticData.TempFolder(), "partial.gpucnn");
        Checkpoint.Save(partial, header, arrays.Where(a => a.Name != "adam/v").ToList());
        var e = Assert.Throws<CheckpointException>(() => GpuCnn.Model.Load(partial, device));
        Messages.Says(e.Message, "optimizer state 'adam/v' is missing");
        Assert.Equal(2, Cli.CliRunner.Run("export", run).ExitCode);
    }

    /// <summary>`train --architecture FILE` trains a model of your own through the command line; evaluate and export take its run.</summary>
    [Fact]
    public void TheCommandLineTrainsAnArchitectureFromAFile()
    {
        var device = devices.Cpu;
        using var custom = new Sequential("tiny-custom", [28, 28, 1],
            [new Conv2D(8, 3, Activation.Relu, Padding.Same, stride: 2), new BatchNormalization(), new GlobalAvgPool2D(), new Dense(10)]).Build(device, 1, 0);
        string file = Path.Combine(SyntheticData.TempFolder(), "tiny.json");
        File.WriteAllText(file, custom.Architecture().ToJsonString());
        string data = SyntheticData.WriteFolder(96, 32);
        string run = Path.Combine(SyntheticData.TempFolder(), "run");

        var trained = Cli.CliRunner.Run("train", "--architecture", file, "--data-dir", data, "--epochs", "2", "--batch-size", "32", "--run-dir", run);
        Assert.True(trained.ExitCode == 0, trained.Error);
        Messages.Says(File.ReadAllText(Path.Combine(run, "model_summary.txt")), "tiny-custom");
        Assert.Equal(0, Cli.CliRunner.Run("evaluate", run).ExitCode);
        Assert.Equal(0, Cli.CliRunner.Run("export", run, "--onnx", Path.Combine(run, "tiny.onnx")).ExitCode);
        Messages.Says(Cli.CliRunner.Run("train", "--resume", run).Output, "already finished after 2 epochs");

        File.WriteAllText(file, "{ \"name\": \"broken\" }");
        var bad = Cli.CliRunner.Run("train", "--architecture", file, "--data-dir", data, "--epochs", "1");
        Assert.Equal(2, bad.ExitCode);
        Messages.Says(bad.Error, $"{file}: not a model architecture");
    }
}
