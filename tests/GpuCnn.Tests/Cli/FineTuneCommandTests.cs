using System.Text.Json;
using GpuCnn.Persistence;
using GpuCnn.Tests.Data;

namespace GpuCnn.Tests.Cli;

/// <summary>`train --init-from` and `--freeze` through the real program: a Fashion-MNIST-style model fine-tuned on a folder of pictures, then resumed.</summary>
public sealed class FineTuneCommandTests
{
    static float[] Array(string model, string name) => Checkpoint.Load(model).Arrays.Single(a => a.Name == name).Values;

    [Fact]
    public void FineTunesFromARunFolderFrozenAndResumesFrozen()
    {
        string data = SyntheticData.WriteFolder(320, 64);
        string source = Path.Combine(SyntheticData.TempFolder(), "source");
        var trained = CliRunner.Run("train", "--data-dir", data, "--epochs", "1", "--batch-size", "32", "--run-dir", source);
        Assert.True(trained.ExitCode == 0, trained.Error + trained.Output);

        string pictures = ImageFolderTests.Write(perClass: 12);
        string run = Path.Combine(SyntheticData.TempFolder(), "fine-tuned");
        var tuned = CliRunner.Run("train", "--data-dir", pictures, "--init-from", source, "--freeze", "conv2d_1",
            "--epochs", "1", "--batch-size", "8", "--run-dir", run);
        Assert.True(tuned.ExitCode == 0, tuned.Error + tuned.Output);
        string sourceModel = Path.GetFullPath(Path.Combine(source, RunFiles.Model));
        Messages.Says(tuned.Output, $"Weights from {sourceModel}:\n  conv2d: loaded\n  conv2d_1: loaded\n  dense: loaded\n" +
                                    "  dense_1: reinitialised (a new head: 3 classes here, 10 in the source)\n");
        Messages.Says(tuned.Output, "Frozen: conv2d to conv2d_1 (18,816 weights fixed, run as at inference; 205,315 trained).");
        var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, RunFiles.Settings))).RootElement;
        Assert.Equal(sourceModel, settings.GetProperty("init_from").GetString());
        Assert.Equal("conv2d_1", settings.GetProperty("hyperparameters").GetProperty("freeze").GetString());
        Messages.Says(File.ReadAllText(Path.Combine(run, RunFiles.Summary)), "Frozen: conv2d to conv2d_1 (3 layers)");
        Assert.Equal(Array(sourceModel, "conv2d_1/kernel"), Array(Path.Combine(run, RunFiles.Model), "conv2d_1/kernel"));

        string first = Path.Combine(SyntheticData.TempFolder(), "after-epoch-1.gpucnn");
        File.Copy(Path.Combine(run, RunFiles.Model), first);
        var refused = CliRunner.Run("train", "--resume", run, "--epochs", "2", "--freeze", "dense");
        Assert.Equal(2, refused.ExitCode);
        Messages.Says(refused.Error, "--freeze (the run has conv2d_1)");

        var resumed = CliRunner.Run("train", "--resume", run, "--epochs", "2");
        Assert.True(resumed.ExitCode == 0, resumed.Error + resumed.Output);
        Messages.Says(resumed.Output, "Frozen: conv2d to conv2d_1");
        string second = Path.Combine(run, RunFiles.Model);
        Assert.Equal(Array(first, "conv2d/kernel"), Array(second, "conv2d/kernel"));
        Assert.Equal(Array(sourceModel, "conv2d_1/kernel"), Array(second, "conv2d_1/kernel"));
        Assert.NotEqual(Array(first, "dense/kernel"), Array(second, "dense/kernel"));
        Assert.Equal(2, Checkpoint.Load(second).Header.History.Count);
    }
}
