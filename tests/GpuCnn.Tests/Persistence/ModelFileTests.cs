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
        TrainingState.Save(path, model, optimizer, new TrainingOptions(), [], "test");

        var (loaded, header) = ModelFile.Load(path, device, 4);
        using (loaded)
        {
            Assert.Equal(model.Architecture().ToJsonString(), loaded.Architecture().ToJsonString());
            Assert.Equal("my-net", header.Model);
            var input = TestData.Uniform(4 * 400, 3);
            Assert.Equal(Forward(model, input), Forward(loaded, input));
        }
    }

    [Fact]
    public void AVersion1FileOfAZooModelStillLoads()
    {
        var device = devices.Cpu;
        using var model = ModelZoo.Create("seed").Build(device, 4, 5);
        var header = new CheckpointHeader("seed", model.InputShape, 10, new TrainingOptions(), "adam", 0, [], "old");
        string path = Path.Combine(SyntheticData.TempFolder(), "old.gpucnn");
        Checkpoint.Save(path, header, Checkpoint.ModelArrays(model), version: 1);

        var (loaded, read) = ModelFile.Load(path, device, 4);
        using (loaded)
        {
            Assert.Null(read.Architecture);
            var input = TestData.Uniform(4 * 784, 4);
            Assert.Equal(Forward(model, input), Forward(loaded, input));
        }
    }

    [Fact]
    public void AnArchitectureThatCannotBeReadIsOneLineNamingTheFileAndTheLayer()
    {
        var device = devices.Cpu;
        using var model = Custom().Build(device, 4, 9);
        var architecture = model.Architecture();
        architecture["layers"]![1]!["kind"] = "Attention";
        var header = new CheckpointHeader("my-net", model.InputShape, 7, new TrainingOptions(), "adam", 0, [], "test", architecture);
        string path = Path.Combine(SyntheticData.TempFolder(), "odd.gpucnn");
        Checkpoint.Save(path, header, Checkpoint.ModelArrays(model));
        var e = Assert.Throws<CheckpointException>(() => ModelFile.Load(path, device, 4));
        Messages.Says(e.Message, $"{path}: layer batch_normalization: unknown layer kind 'Attention'");
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
