using System.Diagnostics;
using GpuCnn.Persistence;
using GpuCnn.Reporting;

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
        int kills = 0, started = 0;
        // Tiny epochs (3 batches), so checkpoints are written many times a second and kills land among the writes.
        for (int attempt = 0; attempt < 3; attempt++)
        {
            var args = File.Exists(checkpoint)
                ? new[] { "train", "--resume", run }
                : new[] { "train", "--data-dir", data, "--epochs", "400", "--batch-size", "32", "--run-dir", run };
            using var process = Start(args);
            started++;
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
        // Each process that got as far as training began its own TensorBoard events file (a resume
        // can be killed before that), and a kill left only whole records in it.
        var events = Directory.GetFiles(run, "events.out.tfevents.*");
        Assert.InRange(events.Length, 2, started + 1);
        foreach (var file in events) Assert.Equal("brain.Event:2", Reporting.TensorBoardTests.ReadEvents(file)[0].FileVersion);
    }

    /// <summary>
    /// Killed after its last checkpoint (during the test evaluation or the final writes), a run
    /// used to be left without its model and reports, and `--resume` said it had finished. Now
    /// `--resume` completes it, and the run then holds the same test results, report and final
    /// weights as one that was never interrupted.
    /// </summary>
    [Fact]
    public void KilledAfterItsLastCheckpointTheRunIsFinishedByResume()
    {
        // 1,500 test images: the final phase (test evaluation, model, plot, reports) lasts long enough for kills to land in it.
        string data = SyntheticData.WriteFolder(96, 1500);
        string[] Train(string folder) => ["train", "--data-dir", data, "--epochs", "2", "--batch-size", "32", "--run-dir", folder];
        string reference = Path.Combine(SyntheticData.TempFolder(), "reference");
        Assert.Equal(0, CliRunner.Run(Train(reference)).ExitCode);
        var random = new Random(2);
        int finalPhaseKills = 0;
        for (int attempt = 0; attempt < 8 && finalPhaseKills < 2; attempt++)
        {
            string run = Path.Combine(SyntheticData.TempFolder(), "run");
            string checkpoint = Path.Combine(run, RunFiles.Checkpoint);
            using (var process = Start(Train(run)))
            {
                var clock = Stopwatch.StartNew();
                while (!process.HasExited && clock.Elapsed < TimeSpan.FromMinutes(2) && EpochsIn(checkpoint) < 2) Thread.Sleep(2);
                Thread.Sleep(attempt == 0 ? 0 : random.Next(0, 150)); // the first kill lands as soon as the last checkpoint is there
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit();
                    if (!RunFolder.IsFinished(run)) finalPhaseKills++;
                }
            }
            var resumed = CliRunner.Run("train", "--resume", run);
            Assert.True(resumed.ExitCode == 0, resumed.Error);
            Assert.True(RunFolder.IsFinished(run));
            foreach (var file in new[] { RunFiles.TestResults, RunFiles.Report })
                Assert.Equal(File.ReadAllText(Path.Combine(reference, file)), File.ReadAllText(Path.Combine(run, file)));
            Assert.Equal(Weights(Path.Combine(reference, RunFiles.Model)), Weights(Path.Combine(run, RunFiles.Model)));
            // Asked again, it has nothing left to do.
            Messages.Says(CliRunner.Run("train", "--resume", run).Output, "already finished after 2 epochs");
        }
        Assert.True(finalPhaseKills >= 1, "no kill landed between the last checkpoint and the end of the run");
    }

    static int EpochsIn(string checkpoint) => File.Exists(checkpoint) ? Checkpoint.Load(checkpoint).Header.History.Count : 0;

    static float[] Weights(string modelFile) => [.. Checkpoint.Load(modelFile).Arrays.SelectMany(a => a.Values)];

    static Process Start(string[] args)
    {
        var process = Process.Start(CliRunner.StartInfo(args))!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
