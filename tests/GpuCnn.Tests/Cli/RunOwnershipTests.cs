using System.Diagnostics;
using GpuCnn.Persistence;

namespace GpuCnn.Tests.Cli;

/// <summary>
/// A run folder has one owner and one history: two trainings into one folder, a resume of a live
/// run, an evaluation of a run, and training a finished run further, each through the real program.
/// </summary>
public sealed class RunOwnershipTests
{
    static string[] Train(string data, string run, params string[] more) =>
        ["train", "--data-dir", data, "--batch-size", "32", "--run-dir", run, .. more];

    static Process Start(params string[] args) => Process.Start(CliRunner.StartInfo(args))!;

    static (int Code, string Error) Finish(Process process)
    {
        var error = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(3)), "the training did not end");
        return (process.ExitCode, error.Result);
    }

    /// <summary>Every file of a folder, by relative path, with its bytes.</summary>
    static Dictionary<string, byte[]> Snapshot(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(folder, f), File.ReadAllBytes);

    static void AssertUnchanged(Dictionary<string, byte[]> before, string folder)
    {
        var after = Snapshot(folder);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (file, bytes) in before) Assert.True(bytes.AsSpan().SequenceEqual(after[file]), $"{file} changed");
    }

    [Fact]
    public void TwoTrainingsStartedTogetherIntoOneFolderLeaveOneCoherentRun()
    {
        string data = SyntheticData.WriteFolder(320, 64);
        string run = Path.Combine(SyntheticData.TempFolder(), "run");
        using var first = Start(Train(data, run, "--epochs", "2", "--seed", "1"));
        using var second = Start(Train(data, run, "--epochs", "2", "--seed", "2"));
        var results = new[] { Finish(first), Finish(second) };

        Assert.Equal([0, 2], results.Select(r => r.Code).Order());
        string refusal = results.Single(r => r.Code == 2).Error.Trim();
        Assert.Single(refusal.Split('\n'));
        Assert.Matches($"^error: run folder {run} (is in use by process \\d+|already exists)", refusal);
        // Everything in the folder comes from the one that trained.
        int seed = results[0].Code == 0 ? 1 : 2;
        var model = Checkpoint.Load(Path.Combine(run, RunFiles.Model)).Header;
        Assert.Equal(seed, model.Hyperparameters.Seed);
        Assert.Equal(model.Run.Command + "\n", File.ReadAllText(Path.Combine(run, RunFiles.Command)).ReplaceLineEndings("\n"));
        Messages.Says(model.Run.Command, $"--seed {seed}");
        Messages.Says(File.ReadAllText(Path.Combine(run, RunFiles.Settings)), $"\"seed\": {seed}");
        Assert.Equal(3, File.ReadAllLines(Path.Combine(run, RunFiles.MetricsCsv)).Length);
        Assert.True(RunFolder.IsFinished(run));
        Assert.False(File.Exists(Path.Combine(run, RunLock.FileName)), "the owner left its lock behind");
    }

    [Fact]
    public void AResumeOfALiveRunIsRefusedAndALockLeftByAKilledProcessIsNot()
    {
        string data = SyntheticData.WriteFolder(96, 32);
        string run = Path.Combine(SyntheticData.TempFolder(), "run");
        string checkpoint = Path.Combine(run, RunFiles.Checkpoint);
        using var live = Start(Train(data, run, "--epochs", "400"));
        var clock = Stopwatch.StartNew();
        while (!File.Exists(checkpoint) && clock.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(50);

        var refused = CliRunner.Run("train", "--resume", run);
        Assert.Equal(2, refused.ExitCode);
        Assert.Equal($"error: run folder {run} is in use by process {live.Id} on {Environment.MachineName}", refused.Error.Trim().Split(" (since")[0]);
        Assert.False(live.HasExited, "the live run was disturbed");

        live.Kill(entireProcessTree: true);
        live.WaitForExit();
        Assert.True(File.Exists(Path.Combine(run, RunLock.FileName)), "a killed process cannot remove its lock");
        int before = Checkpoint.Load(checkpoint).Header.History.Count;
        using var resumed = Start("train", "--resume", run);
        clock.Restart();
        while (Checkpoint.Load(checkpoint).Header.History.Count == before && clock.Elapsed < TimeSpan.FromMinutes(2) && !resumed.HasExited) Thread.Sleep(100);
        resumed.Kill(entireProcessTree: true);
        resumed.WaitForExit();
        Assert.True(Checkpoint.Load(checkpoint).Header.History.Count > before, "the stale lock blocked the resume");
    }

    [Fact]
    public void EvaluateNeverChangesTheRunItReads()
    {
        string data = SyntheticData.WriteFolder(160, 64);
        string run = Path.Combine(SyntheticData.TempFolder(), "run");
        Assert.Equal(0, CliRunner.Run(Train(data, run, "--epochs", "2")).ExitCode);
        // As a kill after the last checkpoint leaves it: no final model, no test results or reports.
        foreach (var file in new[] { RunFiles.Model, RunFiles.TestResults, RunFiles.Report, RunFiles.ConfusionPlot })
            File.Delete(Path.Combine(run, file));
        var before = Snapshot(run);

        foreach (var target in new[] { run, Path.Combine(run, RunFiles.Checkpoint) })
        {
            var evaluation = CliRunner.Run("evaluate", target);
            Assert.True(evaluation.ExitCode == 0, evaluation.Error);
            Messages.Says(evaluation.Output, "test accuracy");
            AssertUnchanged(before, run);
        }
        var intoTheRun = CliRunner.Run("evaluate", run, "--output", run);
        Assert.Equal(2, intoTheRun.ExitCode);
        Messages.Says(intoTheRun.Error, "holds a training run, which evaluation never writes into");
        AssertUnchanged(before, run);

        var resumed = CliRunner.Run("train", "--resume", run);
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.True(RunFolder.IsFinished(run));
        Assert.True(File.Exists(Path.Combine(run, RunFiles.Model)));
    }

    [Fact]
    public void AFinishedRunTrainsFurtherWithMoreEpochsAndRefusesOtherChanges()
    {
        string data = SyntheticData.WriteFolder(160, 64);
        string run = Path.Combine(SyntheticData.TempFolder(), "run");
        Assert.Equal(0, CliRunner.Run(Train(data, run, "--epochs", "2", "--lr-schedule", "cosine")).ExitCode);
        var before = Snapshot(run);

        var changed = CliRunner.Run("train", "--resume", run, "--lr", "0.5", "--batch-size", "16", "--epochs", "1");
        Assert.Equal(2, changed.ExitCode);
        Assert.Equal($"error: --resume {run} trains as the run was started; these options differ from it: " +
                     "--batch-size (the run has 32), --lr (the run has 0.001), --epochs (the run has 2; give more to train it further).", changed.Error.Trim());
        AssertUnchanged(before, run);

        var further = CliRunner.Run("train", "--resume", run, "--epochs", "3", "--lr-schedule", "cosine");
        Assert.True(further.ExitCode == 0, further.Error);
        Messages.Says(further.Output, "training further, to 3 epochs");
        var model = Checkpoint.Load(Path.Combine(run, RunFiles.Model)).Header;
        Assert.Equal([1, 2, 3], model.History.Select(m => m.Epoch));
        Assert.Equal(3, model.Hyperparameters.Epochs);
        // The first two epochs are the run's own, untouched; the third follows the same cosine rule over 3 epochs.
        var earlier = Checkpoint.Load(Saved(before[RunFiles.Model])).Header.History;
        Assert.Equal(earlier, model.History.Take(2));
        Assert.Equal(0.001f * 0.5f * (1f + MathF.Cos(MathF.PI * 2 / 3)), (float)model.History[2].LearningRate);
        Assert.Equal(4, File.ReadAllLines(Path.Combine(run, RunFiles.MetricsCsv)).Length);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(run, RunFiles.Command)).Length);
        Messages.Says(CliRunner.Run("train", "--resume", run).Output, "already finished after 3 epochs");
    }

    /// <summary>Bytes saved as a file of their own, for readers that take a path.</summary>
    static string Saved(byte[] bytes)
    {
        string path = Path.Combine(SyntheticData.TempFolder(), "copy.gpucnn");
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
