using System.Text.Json;
using GpuCnn.Persistence;

namespace GpuCnn.Tests.Cli;

/// <summary>`gpucnn compare` over several seeds: the table, the run folders, and continuing an interrupted campaign.</summary>
public sealed class CompareCommandTests
{
    static string[] Campaign(string data, params string[] more) =>
        ["compare", "--device", "cpu", "--data-dir", data, "--models", "seed-bn", "--epochs", "1", "--batch-size", "32",
         "--train-limit", "all", "--bn-recalibrate", "3", .. more];

    static double TestAccuracy(string run) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(run, RunFiles.TestResults))).RootElement.GetProperty("test_accuracy").GetDouble();

    /// <summary>A lock as a killed training leaves it: this host, the pid of a process that has ended.</summary>
    static string DeadOwner()
    {
        using var ended = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("dotnet", "--version") { RedirectStandardOutput = true })!;
        ended.StandardOutput.ReadToEnd();
        ended.WaitForExit();
        return JsonSerializer.Serialize(new { Host = Environment.MachineName, Pid = ended.Id, ProcessStart = 0L, Since = "2026-01-01 00:00:00Z" });
    }

    [Fact]
    public void ACampaignOverSeedsWritesMeanAndSdAndContinuesWithoutRedoingFinishedRuns()
    {
        string data = SyntheticData.WriteFolder(320, 64);
        string dir = Path.Combine(SyntheticData.TempFolder(), "campaign"), logs = Path.Combine(SyntheticData.TempFolder(), "logs");
        var first = CliRunner.Run(Campaign(data, "--seeds", "1", "2", "3", "--run-dir", dir, "--tensorboard", logs));
        Assert.True(first.ExitCode == 0, first.Output + first.Error);

        string[] runs = [.. new[] { 1, 2, 3 }.Select(s => Path.Combine(dir, "seed-bn", $"seed-{s}"))];
        // TensorBoard's events go to one folder per run under --tensorboard, as the runs are laid out.
        foreach (int seed in new[] { 1, 2, 3 })
            Assert.Single(Directory.GetFiles(Comparison.RunPath(logs, "seed-bn", seed), "events.out.tfevents.*"));
        Assert.All(runs, run => Assert.Empty(Directory.GetFiles(run, "*tfevents*")));
        var accuracies = runs.Select(TestAccuracy).ToArray();
        double mean = accuracies.Average();
        double sd = Math.Sqrt(accuracies.Sum(a => (a - mean) * (a - mean)) / 2);
        void AssertTable()
        {
            string table = File.ReadAllText(Path.Combine(dir, "comparison.md"));
            Assert.Contains($"**{100 * mean:F2} ± {100 * sd:F2} %**", table);
            Assert.Contains("PreciseBN over 3 batches", table);
            foreach (var (seed, accuracy) in new[] { 1, 2, 3 }.Zip(accuracies)) Assert.Contains($"{seed}: {accuracy:P2}", table);
        }
        AssertTable();

        // Interrupt it after the fact: run 2 lost its final phase, run 3 was killed in its first epoch,
        // leaving its settings and the lock of a process that is gone.
        var untouched = File.GetLastWriteTimeUtc(Path.Combine(runs[0], RunFiles.Model));
        File.Delete(Path.Combine(runs[1], RunFiles.TestResults));
        foreach (var file in Directory.GetFiles(runs[2]).Where(f => Path.GetFileName(f) != RunFiles.Settings)) File.Delete(file);
        File.WriteAllText(Path.Combine(runs[2], RunLock.FileName), DeadOwner());
        var again = CliRunner.Run("compare", "--device", "cpu", "--resume", dir);
        Assert.True(again.ExitCode == 0, again.Output + again.Error);
        Assert.Contains("seed 1: finished before", again.Output);
        Assert.Contains("seed 2: resuming after epoch 1", again.Output);
        Assert.Equal(untouched, File.GetLastWriteTimeUtc(Path.Combine(runs[0], RunFiles.Model)));
        // Same seeds, same budget: the redone runs give the same results, so the same table (timings aside).
        Assert.Equal(accuracies, runs.Select(TestAccuracy).ToArray());
        AssertTable();
    }

    [Fact]
    public void AnExistingCampaignIsContinuedNotOverwritten()
    {
        string dir = SyntheticData.TempFolder();
        File.WriteAllText(Path.Combine(dir, "note.txt"), "mine");
        var r = CliRunner.Run("compare", "--run-dir", dir);
        Assert.NotEqual(0, r.ExitCode);
        Messages.Says(r.Error, $"gpucnn compare --resume {dir}");
        var resume = CliRunner.Run("compare", "--resume", dir);
        Assert.NotEqual(0, resume.ExitCode);
        Messages.Says(resume.Error, "no campaign.json there to continue");
        Assert.Equal("mine", File.ReadAllText(Path.Combine(dir, "note.txt")));
    }
}
