using GpuCnn.Layers;
using GpuCnn.Models;
using GpuCnn.Persistence;
using GpuCnn.Training;

namespace GpuCnn.Tests.Cli;

/// <summary>
/// `gpucnn summary` of each kind of model: a saved model file, a run folder, an architecture file
/// (the example in samples/architectures), and the refusal of two at once. The example
/// architecture also trains a step, as train --architecture would.
/// </summary>
[Collection("devices")]
public sealed class SummaryCommandTests(TestDevices devices)
{
    static string Example => Path.Combine(OptionalRuntime.RepositoryRoot(), "samples", "architectures", "small-cnn.json");

    [Fact]
    public void TheExampleArchitectureLoadsSummarisesAndTrainsAStep()
    {
        var network = Sequential.FromArchitecture(RunSpec.ReadArchitecture(Example));
        Assert.Equal("small-cnn", network.Name);
        using var model = GpuCnn.Model.Compile(network, devices.Cpu, new Hyperparameters { BatchSize = 32, ValidationSplit = 0 });

        var r = CliRunner.Run("summary", "--architecture", Example);
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Equal(ModelSummary.Render(model.Network), r.Output);
        Messages.Says(r.Output, "conv1 (Conv2D)");
        Messages.Says(r.Output, "logits (Dense)");

        // 32 images at batch 32: one optimizer step, which must move the weights and give a finite loss.
        var before = model.Network.ParameterBuffer.ToArray();
        var history = model.Fit(SyntheticData.Images(32, 4), epochs: 1);
        Assert.True(double.IsFinite(history.Single().Loss));
        Assert.NotEqual(before, model.Network.ParameterBuffer.ToArray());
    }

    [Fact]
    public void ASavedModelAndItsRunFolderAreSummarisedAsTheyWereBuilt()
    {
        var network = new Sequential("saved", [28, 28, 1], [new Conv2D(8, 3, Activation.Relu), new MaxPool2D(2), new Flatten(), new Dense(10)]);
        using var model = GpuCnn.Model.Compile(network, devices.Cpu, new Hyperparameters { BatchSize = 8 });
        string run = SyntheticData.TempFolder();
        string file = Path.Combine(run, RunFiles.Model);
        model.Save(file);
        string expected = ModelSummary.Render(model.Network);
        foreach (var path in new[] { file, run })
        {
            var r = CliRunner.Run("summary", path);
            Assert.True(r.ExitCode == 0, r.Error);
            Assert.Equal(expected, r.Output);
        }
    }

    [Theory]
    [InlineData("--model", "resnet")]
    [InlineData("--architecture", "x.json")]
    public void TwoModelsAtOnceAreRefused(string option, string value)
    {
        var r = CliRunner.Run("summary", "model.gpucnn", option, value);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("error: summary takes one model: a MODEL file or run folder, --model NAME or --architecture FILE.", r.Error.Trim());
    }

    /// <summary>`summary resnet20` is `summary --model resnet20`, unless a file or folder of that name is there.</summary>
    [Fact]
    public void AZooNameInPlaceOfAFileIsThatZooModel()
    {
        var byName = CliRunner.Run("summary", "resnet20");
        Assert.True(byName.ExitCode == 0, byName.Error);
        Assert.Equal(CliRunner.Run("summary", "--model", "resnet20").Output, byName.Output);
        Messages.Says(byName.Output, "Model: \"resnet20\"");
    }

    [Fact]
    public void AMissingModelFileIsNamed()
    {
        string path = Path.Combine(SyntheticData.TempFolder(), "absent.gpucnn");
        var r = CliRunner.Run("summary", path);
        Assert.Equal(2, r.ExitCode);
        Messages.Says(r.Error, $"{path}: file not found");
    }
}
