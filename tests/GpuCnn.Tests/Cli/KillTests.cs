using System.Diagnostics;
using GpuCnn.Persistence;

namespace GpuCnn.Tests.Cli;

/// <summary>A training process killed at any moment, a checkpoint write included, leaves a checkpoint that loads and resumes.</summary>
public sealed class KillTests
{
    [Fact]
    public void KilledAtRandomMomentsTheRunResumesFromItsLastCompleteCheckpoint()
    {
        string data = SyntheticData.WriteFolder(96, 32);
        string run = Path.Combine(SyntheticData.TempFolder(), "run");
        string checkpoint = Path.Combine(run, RunFiles.Checkpoint);
        var random = new Random(1);
        int kills = 0;
        // Tiny epochs (3 batches), so checkpoints are written many times a second and kills land among the writes.
        for (int attempt = 0; attempt < 3; attempt++)
        {
            var args = File.Exists(checkpoint)
                ? new[] { "train", "--resume", run }
                : new[] { "train", "--data-dir", data, "--epochs", "400", "--batch-size", "32", "--run-dir", run };
            using var process = Start(args);
            var clock = Stopwatch.StartNew();
            while (!File.Exists(checkpoint) && clock.Elapsed < TimeSpan.FromMinutes(2) && !process.HasExited) Thread.Sleep(20);
            Thread.Sleep(random.Next(200, 1500));
            if (process.HasExited) break;
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            kills++;
            var header = Checkpoint.Load(checkpoint).Header;
            Assert.NotEmpty(header.History);
            Assert.Equal(Enumerable.Range(1, header.History.Count), header.History.Select(m => m.Epoch));
        }
        Assert.True(kills >= 2, "the training process ended before it could be killed");
        // Resuming a last time tidies what a kill mid-write left and carries on.
        using var last = Start(["train", "--resume", run]);
        var before = Checkpoint.Load(checkpoint).Header.History.Count;
        var wait = Stopwatch.StartNew();
        while (Checkpoint.Load(checkpoint).Header.History.Count == before && wait.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(100);
        last.Kill(entireProcessTree: true);
        last.WaitForExit();
        Assert.True(Checkpoint.Load(checkpoint).Header.History.Count > before, "the resumed run did not add an epoch");
    }

    static Process Start(string[] args)
    {
        var process = Process.Start(CliRunner.StartInfo(args))!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
