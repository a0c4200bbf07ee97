using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using GpuCnn.Persistence;
using GpuCnn.Tests.Cli;
using GpuCnn.Training;

namespace GpuCnn.Tests.Distributed;

/// <summary>
/// `mpiexec -n 2 gpucnn train`: one model, two ranks, each on its share of every batch, on the
/// real Fashion-MNIST images. It must train as one process does, write one run folder, resume
/// with the same number of ranks, and end when a rank dies. Skipped without MPICH; CI requires it.
/// </summary>
public sealed class DataParallelTests
{
    static string Cli() => Path.Combine(AppContext.BaseDirectory, "GpuCnn.Cli.dll");

    static string MpiExec()
    {
        string? mpiexec = OptionalRuntime.OnPath("mpiexec");
        OptionalRuntime.Require("MPI", mpiexec is null ? "no mpiexec on PATH (install MPICH: apt-get install mpich)" : null);
        return mpiexec!;
    }

    /// <summary>Starts gpucnn (under mpiexec -n ranks when ranks &gt; 1) in a working folder, output collected.</summary>
    sealed class Job : IDisposable
    {
        readonly Process process;
        readonly Task<string> output, error;

        public Job(string folder, int ranks, IEnumerable<string> args, bool verify = false)
        {
            var start = new ProcessStartInfo(ranks > 1 ? MpiExec() : "dotnet")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = folder,
            };
            if (ranks > 1) foreach (var a in new[] { "-n", $"{ranks}", "dotnet" }) start.ArgumentList.Add(a);
            start.ArgumentList.Add(Cli());
            foreach (var a in args) start.ArgumentList.Add(a);
            if (verify) start.Environment["GPUCNN_MPI_VERIFY"] = "1";
            process = Process.Start(start)!;
            output = process.StandardOutput.ReadToEndAsync();
            error = process.StandardError.ReadToEndAsync();
        }

        public bool HasExited => process.HasExited;

        public (int ExitCode, string Output, string Error) Wait(TimeSpan limit)
        {
            Assert.True(process.WaitForExit(limit), $"the job did not end within {limit.TotalSeconds} s");
            return (process.ExitCode, output.Result, error.Result);
        }

        public void Dispose()
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.Dispose();
        }
    }

    static readonly string[] Budget = ["train", "--device", "cpu", "--train-limit", "2560"];

    static JsonElement Json(string file) => JsonDocument.Parse(File.ReadAllText(file)).RootElement;

    /// <summary>Trains 1 epoch with 2 ranks and with 1 process, each in a fresh working folder; returns the folders and outputs.</summary>
    static (string Two, string One, string TwoOutput) TrainBothWays(string[] args)
    {
        string twoFolder = SyntheticData.TempFolder(), oneFolder = SyntheticData.TempFolder();
        using var two = new Job(twoFolder, 2, [.. args, "--epochs", "1"], verify: true);
        var r2 = two.Wait(TimeSpan.FromMinutes(5));
        Assert.True(r2.ExitCode == 0, r2.Output + r2.Error);
        using var one = new Job(oneFolder, 1, [.. args, "--epochs", "1"]);
        var r1 = one.Wait(TimeSpan.FromMinutes(5));
        Assert.True(r1.ExitCode == 0, r1.Output + r1.Error);
        return (twoFolder, oneFolder, r2.Output);
    }

    static void AssertSameMetrics(string single, string run, double tolerance)
    {
        foreach (var name in new[] { "test_accuracy", "test_loss" })
            Assert.Equal(Json(Path.Combine(single, RunFiles.TestResults)).GetProperty(name).GetDouble(),
                Json(Path.Combine(run, RunFiles.TestResults)).GetProperty(name).GetDouble(), tolerance);
        var epochTwo = Json(Path.Combine(run, RunFiles.MetricsJson))[0];
        var epochOne = Json(Path.Combine(single, RunFiles.MetricsJson))[0];
        foreach (var name in new[] { "Loss", "Accuracy", "ValLoss", "ValAccuracy" })
            Assert.Equal(epochOne.GetProperty(name).GetDouble(), epochTwo.GetProperty(name).GetDouble(), tolerance);
    }

    [Fact]
    public void TwoRanksTrainAsOneProcessDoesAndWriteOneRunFolder()
    {
        MpiExec();
        var (twoFolder, oneFolder, output) = TrainBothWays(Budget);

        // GPUCNN_MPI_VERIFY=1 compared the ranks' weights to the bit after every step (a difference fails the job).
        Messages.Says(output, "Data-parallel on 2 MPI ranks: each takes 64 rows of every batch of 128");
        Assert.Single(Regex.Matches(output, "Test accuracy"));
        string run = Assert.Single(Directory.GetDirectories(Path.Combine(twoFolder, "runs")));
        Assert.Single(Directory.GetFileSystemEntries(twoFolder));
        string single = Assert.Single(Directory.GetDirectories(Path.Combine(oneFolder, "runs")));
        Assert.Equal(2, Json(Path.Combine(run, RunFiles.Settings)).GetProperty("ranks").GetInt32());
        // Rank 0 alone writes TensorBoard's events, while every rank reads the running loss with it (a collective).
        Assert.Single(Directory.GetFiles(run, "events.out.tfevents.*"));

        // Only the order of the gradient sums differs from one process: the metrics agree to 1e-4.
        AssertSameMetrics(single, run, 1e-4);
    }

    /// <summary>
    /// Dropout masks and augmentation are keyed by the position in the whole batch, so the ranks'
    /// halves together are the batch one process trains on. Over three steps (400 images) the
    /// rounding of the split sums stays near 1e-8; a wrong mask or shift would move the loss by far
    /// more. (Over many steps Adam amplifies such rounding, which is why the 2,560-image test
    /// above leaves augmentation out.)
    /// </summary>
    [Fact]
    public void TwoRanksDrawTheDropoutMasksAndAugmentationOfOneProcess()
    {
        MpiExec();
        var (twoFolder, oneFolder, _) = TrainBothWays(["train", "--device", "cpu", "--train-limit", "400", "--augment-shift", "2", "--augment-flip", "--run-dir", "run"]);
        AssertSameMetrics(Path.Combine(oneFolder, "run"), Path.Combine(twoFolder, "run"), 1e-6);
    }

    /// <summary>
    /// The modern recipe's pieces together: shifts, flips and random erasing (keyed by the position
    /// in the whole order), OneCycle stepped per batch with a warm-up, label smoothing, SGD with
    /// Nesterov momentum and weight decay, and the weight average, which validation and the test
    /// score. Over the 18 steps of the first test they train as one process does, to its 1e-4
    /// (measured: 1e-8). At a learning rate of 0.05, where training had hardly settled, the same
    /// run differed by 4e-4 in validation loss and 4 test images: over many steps such a run
    /// amplifies the rounding of the split sums (after 3 steps it still agreed to 1e-8).
    /// </summary>
    [Fact]
    public void TwoRanksTrainTheModernRecipeAsOneProcessDoes()
    {
        MpiExec();
        var (twoFolder, oneFolder, _) = TrainBothWays([.. Budget, "--augment-shift", "2", "--augment-flip", "--augment-erase", "0.5",
            "--lr-schedule", "onecycle", "--warmup", "0.5", "--label-smoothing", "0.1", "--optimizer", "sgd-nesterov", "--lr", "0.01",
            "--weight-decay", "5e-4", "--ema", "0.9", "--ema-warmup", "--run-dir", "run"]);
        string two = Path.Combine(twoFolder, "run");
        var ema = Json(Path.Combine(two, RunFiles.Settings)).GetProperty("hyperparameters").GetProperty("ema");
        Assert.Equal(0.9, ema.GetProperty("decay").GetDouble(), 6);
        AssertSameMetrics(Path.Combine(oneFolder, "run"), two, 1e-4);
    }

    [Fact]
    public void WhenARankDiesTheJobEndsAndResumesWithTheSameRanks()
    {
        MpiExec();
        string folder = SyntheticData.TempFolder();
        string run = Path.Combine(folder, "run"), checkpoint = Path.Combine(run, RunFiles.Checkpoint);
        string[] train = [.. Budget, "--epochs", "2", "--run-dir", run];
        int killed;
        (int ExitCode, string Output, string Error) ended;
        using (var job = new Job(folder, 2, train))
        {
            var clock = Stopwatch.StartNew();
            while (!File.Exists(checkpoint) && !job.HasExited && clock.Elapsed < TimeSpan.FromMinutes(3)) Thread.Sleep(50);
            Assert.True(File.Exists(checkpoint), "no checkpoint was written");
            killed = RankProcess(folder, 1) ?? throw new InvalidOperationException("rank 1's process was not found");
            Process.GetProcessById(killed).Kill();
            var stopwatch = Stopwatch.StartNew();
            ended = job.Wait(TimeSpan.FromSeconds(30));
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(30));
        }
        Assert.NotEqual(0, ended.ExitCode);
        // mpiexec names the dead process by its pid; the job's first lines say whose it was.
        Messages.Says(ended.Output + ended.Error, $"PID {killed}");
        Messages.Says(ended.Output, $"rank 1: {Environment.MachineName}, pid {killed}:");
        var header = Checkpoint.Load(checkpoint).Header;
        Assert.NotEmpty(header.History);

        var alone = CliRunner.Run("train", "--resume", run);
        Assert.NotEqual(0, alone.ExitCode);
        Messages.Says(alone.Error, "the run was trained by 2 rank(s) and this is 1; resume it with mpiexec -n 2");
        using var resumed = new Job(folder, 2, ["train", "--device", "cpu", "--resume", run]);
        var r = resumed.Wait(TimeSpan.FromMinutes(5));
        Assert.True(r.ExitCode == 0, r.Output + r.Error);
        Messages.Says(r.Output, $"Resumed from {run} after epoch {header.History.Count}");
        Assert.Equal(2, Checkpoint.Load(checkpoint).Header.History.Count);
    }

    /// <summary>The gpucnn process that mpiexec started in this folder as this rank (PMI_RANK in its environment).</summary>
    static int? RankProcess(string folder, int rank)
    {
        foreach (var process in Process.GetProcessesByName("dotnet"))
        {
            try
            {
                var environment = File.ReadAllText($"/proc/{process.Id}/environ").Split('\0');
                var cmdline = File.ReadAllText($"/proc/{process.Id}/cmdline");
                string cwd = new DirectoryInfo($"/proc/{process.Id}/cwd").LinkTarget ?? "";
                if (cmdline.Contains("GpuCnn.Cli.dll") && environment.Contains($"PMI_RANK={rank}") && cwd == folder) return process.Id;
            }
            catch (IOException)
            {
            }
        }
        return null;
    }
}
