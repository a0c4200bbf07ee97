using System.Diagnostics;
using GpuCnn.Persistence;

namespace GpuCnn.Tests.Cli;

/// <summary>
/// A disk that fills up mid-run stops the run with one line naming the file that could not be
/// written, and the last good checkpoint stays intact. The run writes into a 16 MB tmpfs that
/// the test fills once the first checkpoint is there. Mounting needs root: elsewhere the test
/// says it skipped (CI runs as root).
/// </summary>
public sealed class DiskFullTests
{
    [Fact]
    public void ADiskThatFillsUpMidRunStopsItWithOneLineAndKeepsTheLastCheckpoint()
    {
        if (!Environment.IsPrivilegedProcess) Assert.Skip("skipped: mounting a small tmpfs needs root");
        string data = SyntheticData.WriteFolder(96, 32);
        string disk = SyntheticData.TempFolder();
        Run("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", disk);
        try
        {
            string run = Path.Combine(disk, "run"), checkpoint = Path.Combine(run, RunFiles.Checkpoint);
            using var process = Process.Start(CliRunner.StartInfo(["train", "--data-dir", data, "--epochs", "400", "--batch-size", "32", "--run-dir", run]))!;
            var stderr = process.StandardError.ReadToEndAsync();
            process.StandardOutput.ReadToEndAsync();
            var clock = Stopwatch.StartNew();
            while (!File.Exists(checkpoint) && !process.HasExited && clock.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(20);
            Assert.True(File.Exists(checkpoint), "no checkpoint was written");
            Fill(Path.Combine(disk, "filler"));
            Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "the run went on with a full disk");
            string error = stderr.Result.Trim();
            Assert.NotEqual(0, process.ExitCode);
            Assert.Single(error.Split('\n'));
            // Any of the run's files, TensorBoard's events.out.tfevents.SECONDS.HOST among them.
            Assert.Matches($"^error: cannot write {run}/[A-Za-z0-9_.-]+: No space left on device; its previous version, if any, is kept$", error);
            var header = Checkpoint.Load(checkpoint).Header;
            Assert.NotEmpty(header.History);
        }
        finally
        {
            Run("umount", "-l", disk);
        }
    }

    /// <summary>Writes until the file system is full.</summary>
    static void Fill(string path)
    {
        var chunk = new byte[1 << 20];
        try
        {
            using var stream = File.Create(path);
            while (true) stream.Write(chunk);
        }
        catch (IOException) { }
    }

    static void Run(string command, params string[] args)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{command} failed: {error}");
    }
}
