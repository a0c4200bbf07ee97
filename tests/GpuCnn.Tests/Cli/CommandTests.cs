using GpuCnn.Devices;
using GpuCnn.Persistence;
using SkiaSharp;

namespace GpuCnn.Tests.Cli;

/// <summary>Each command on small inputs, and each bad input refused with a clear message before any work.</summary>
public sealed class CommandTests
{
    [Fact]
    public void SummaryOfTheReferenceModelMatchesKeras()
    {
        var r = CliRunner.Run("summary", "--model", "seed");
        Assert.Equal(0, r.ExitCode);
        Messages.Says(r.Output, "Total params: 225,034");
        Messages.Says(r.Output, "conv2d_1 (Conv2D)");
        Messages.Says(r.Output, "(None, 5, 5, 64)");
        Messages.Says(r.Output, "dense_1 (Dense)");
    }

    [Fact]
    public void DevicesListsTheCpuAcceleratorWithItsLaunchPlan()
    {
        var r = CliRunner.Run("devices");
        Assert.Equal(0, r.ExitCode);
        Assert.Matches(@"(?m)^cpu +CPUAccelerator .* cpu$", r.Output);
    }

    /// <summary>
    /// A device kind this machine lacks (CUDA here and in CI; OpenCL on a CUDA host without it) is
    /// refused with the list of devices this test finds itself. On a host with both it skips.
    /// </summary>
    [Fact]
    public void AskingForAnAbsentDeviceFailsClearlyAndListsTheDevicesFound()
    {
        var found = ComputeDevice.ListDevices();
        var absent = new[] { (DeviceKind.Cuda, "cuda", "CUDA"), (DeviceKind.OpenCL, "opencl", "OpenCL") }
            .Where(k => found.All(d => d.Kind != k.Item1)).ToList();
        if (absent.Count == 0) Assert.Skip("skipped: this machine has both a CUDA and an OpenCL device, so none is absent");
        var (_, option, name) = absent[0];
        var r = CliRunner.Run("train", "--device", option);
        Assert.Equal(2, r.ExitCode);
        // PoCL reports a share of the memory free at the moment, which moves between two processes.
        static string AnyMemory(string text) => System.Text.RegularExpressions.Regex.Replace(text, @"\d+(\.\d+)? GiB", "? GiB");
        Messages.Says(AnyMemory(r.Error), AnyMemory($"No {name} device found. Devices found: " + string.Join("; ", found.Select(d => d.ToString())) + "."));
        Assert.DoesNotContain("   at ", r.Error);
    }

    /// <summary>Every parse or validation error: one line naming the option, the values it takes and what was given; exit code 2; no help, no stack trace.</summary>
    [Theory]
    [InlineData("--epochs must be a whole number from 1 to 100000, got '0'", "train", "--epochs", "0")]
    [InlineData("--batch-size must be a whole number from 1 to 65536, got '-5'", "train", "--batch-size", "-5")]
    [InlineData("--batch-size must be a whole number from 1 to 65536, got 'abc'", "train", "--batch-size", "abc")]
    [InlineData("--lr must be a number above 0 and at most 100, got '-0.1'", "train", "--lr", "-0.1")]
    [InlineData("--lr must be a number above 0 and at most 100, got 'fast'", "train", "--lr", "fast")]
    [InlineData("--model must be one of seed, seed-bn, resnet, resnet20, resnet32; got 'vgg'", "train", "--model", "vgg")]
    [InlineData("--model must be one of seed, seed-bn, resnet, resnet20, resnet32; got 'vgg'", "summary", "--model", "vgg")]
    [InlineData("--device must be one of auto, cuda, opencl, cpu; got 'tpu'", "train", "--device", "tpu")]
    [InlineData("--validation-split must be a fraction from 0 up to (not including) 1, got '1.5'", "train", "--validation-split", "1.5")]
    [InlineData("--train-limit must be a number of images (at least 2) or 'all', got '10x'", "train", "--train-limit", "10x")]
    [InlineData("--early-stopping must be a whole number of at least 1, got '0'", "train", "--early-stopping", "0")]
    [InlineData("--ema must be a decay between 0 and 1 (both excluded), e.g. 0.999, got '1'", "train", "--ema", "1")]
    [InlineData("--ema-warmup warms up an average: give --ema DECAY too", "train", "--ema-warmup")]
    [InlineData("--seeds takes whole numbers, got 'x'", "compare", "--seeds", "x")]
    [InlineData("--resume /nonexistent-run: no checkpoint.gpucnn there to resume from", "train", "--resume", "/nonexistent-run")]
    [InlineData("--init-from /nonexistent-model: no model file or run folder there", "train", "--init-from", "/nonexistent-model")]
    [InlineData("--resume continues the run from its own checkpoint: do not pass --init-from with it", "train", "--resume", "/r", "--init-from", "/m")]
    [InlineData("--freeze nope: model 'seed' has no layer 'nope' to freeze up to; its layers: conv2d, max_pooling2d, conv2d_1, max_pooling2d_1, " +
                "dropout, flatten, dense, dropout_1, dense_1", "train", "--freeze", "nope")]
    [InlineData("--freeze dense_1: model 'seed': freezing up to dense_1 leaves no weights to train; freeze up to an earlier layer: conv2d, " +
                "max_pooling2d, conv2d_1, max_pooling2d_1, dropout, flatten, dense, dropout_1", "train", "--freeze", "dense_1")]
    public void BadOptionsAreOneLineAndExitCode2BeforeAnyWork(string message, params string[] args)
    {
        var r = CliRunner.Run(args);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"error: {message}.", r.Error.Trim());
        Assert.Equal("", r.Output);
    }

    [Fact]
    public void HelpAndUsageSayGpucnn()
    {
        var r = CliRunner.Run("--help");
        Assert.Equal(0, r.ExitCode);
        Messages.Says(r.Output, "gpucnn [command] [options]");
        Messages.Says(CliRunner.Run("train", "--help").Output, "gpucnn train [options]");
        Assert.DoesNotContain("GpuCnn.Cli", r.Output);
    }

    [Fact]
    public void AnExistingRunFolderIsRefused()
    {
        string folder = SyntheticData.TempFolder();
        File.WriteAllText(Path.Combine(folder, "metrics.csv"), "precious");
        var r = CliRunner.Run("train", "--run-dir", folder);
        Assert.NotEqual(0, r.ExitCode);
        Messages.Says(r.Error, $"run folder {folder} already exists");
        Assert.Equal("precious", File.ReadAllText(Path.Combine(folder, "metrics.csv")));
    }

    [Fact]
    public void ABatchLargerThanTheDataSetIsRefused()
    {
        string data = SyntheticData.WriteFolder(100, 20);
        var r = CliRunner.Run("train", "--data-dir", data, "--batch-size", "128", "--run-dir", Path.Combine(SyntheticData.TempFolder(), "r"));
        Assert.Equal(2, r.ExitCode);
        Messages.Says(r.Error, "batch size 128 is larger than the 90 training images");
    }

    [Fact]
    public void BadDataFilesAreNamedWithTheProblem()
    {
        string data = SyntheticData.WriteFolder(100, 20);
        File.WriteAllBytes(Path.Combine(data, "t10k-labels-idx1-ubyte.gz"), []);
        var r = CliRunner.Run("train", "--data-dir", data, "--batch-size", "16", "--run-dir", Path.Combine(SyntheticData.TempFolder(), "r"));
        Assert.Equal(2, r.ExitCode);
        Messages.Says(r.Error, "t10k-labels-idx1-ubyte.gz: file is empty");
    }

    /// <summary>Trains a tiny run end to end through the CLI; shared by the evaluate and predict tests.</summary>
    static string TrainTinyRun()
    {
        string data = SyntheticData.WriteFolder(320, 64);
        string run = Path.Combine(SyntheticData.TempFolder(), "run");
        var r = CliRunner.Run("train", "--data-dir", data, "--epochs", "2", "--batch-size", "32", "--run-dir", run,
            "--lr-schedule", "cosine", "--augment-shift", "1", "--early-stopping", "3");
        Assert.True(r.ExitCode == 0, r.Error + r.Output);
        Messages.Says(r.Output, "Epoch 2/2");
        Messages.Says(r.Output, "Test accuracy:");
        Messages.Says(r.Output, "weighted avg");
        Assert.DoesNotContain("ETA", r.Output); // no progress bar where the output is not a terminal
        foreach (var file in new[] { RunFiles.Model, RunFiles.Checkpoint, RunFiles.MetricsCsv, RunFiles.MetricsJson, RunFiles.TrainingPlot,
                     RunFiles.ConfusionPlot, RunFiles.Report, RunFiles.Summary, RunFiles.Command, RunFiles.Settings })
            Assert.True(File.Exists(Path.Combine(run, file)), $"{file} missing");
        Assert.Equal(3, File.ReadAllLines(Path.Combine(run, RunFiles.MetricsCsv)).Length);
        Messages.Says(File.ReadAllText(Path.Combine(run, RunFiles.Command)), "--lr-schedule cosine");
        return run;
    }

    /// <summary>`plot` draws a run's pictures again from its files: the very pictures the run drew.</summary>
    [Fact]
    public void PlotRedrawsARunsPicturesFromItsFiles()
    {
        string run = TrainTinyRun();
        string[] pictures = [RunFiles.TrainingPlot, RunFiles.ConfusionPlot];
        var drawn = pictures.Select(p => File.ReadAllBytes(Path.Combine(run, p))).ToList();
        foreach (var p in pictures) File.Delete(Path.Combine(run, p));
        var r = CliRunner.Run("plot", run);
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Equal(drawn, pictures.Select(p => File.ReadAllBytes(Path.Combine(run, p))).ToList());

        string empty = SyntheticData.TempFolder();
        var refused = CliRunner.Run("plot", empty);
        Assert.NotEqual(0, refused.ExitCode);
        Messages.Says(refused.Error, $"{empty}: not a run folder: it has no metrics.json");
    }

    [Fact]
    public void TrainThenEvaluateThenPredict()
    {
        string run = TrainTinyRun();
        string data = SyntheticData.WriteFolder(320, 64);
        string reports = Path.Combine(SyntheticData.TempFolder(), "eval");
        var evaluation = CliRunner.Run("evaluate", run, "--data-dir", data, "--output", reports);
        Assert.True(evaluation.ExitCode == 0, evaluation.Error);
        Messages.Says(evaluation.Output, "test accuracy");
        Assert.True(File.Exists(Path.Combine(reports, RunFiles.ConfusionPlot)));
        Assert.True(File.Exists(Path.Combine(reports, ModelEvaluation.ResultsFile)));

        string pictures = SyntheticData.TempFolder();
        string good = Path.Combine(pictures, "shirt.png");
        using (var bitmap = new SKBitmap(60, 40))
        {
            using var canvas = new SKCanvas(bitmap);
            canvas.Clear(SKColors.White);
            canvas.DrawRect(15, 5, 30, 30, new SKPaint { Color = SKColors.DarkBlue });
            using var file = File.Create(good);
            bitmap.Encode(SKEncodedImageFormat.Png, 100).SaveTo(file);
        }
        string broken = Path.Combine(pictures, "broken.jpg");
        File.WriteAllText(broken, "not a picture");
        var prediction = CliRunner.Run("predict", Path.Combine(run, RunFiles.Model), broken, good, "--json");
        Assert.Equal(2, prediction.ExitCode);
        Messages.Says(prediction.Error, "broken.jpg: not a PNG or JPEG image that can be decoded");
        Messages.Says(prediction.Output, "shirt.png");
        Messages.Says(prediction.Output, "\"probability\"");
        var top = System.Text.Json.JsonDocument.Parse(prediction.Output).RootElement[0].GetProperty("top");
        Assert.Equal(3, top.GetArrayLength());
        double total = top.EnumerateArray().Sum(t => t.GetProperty("probability").GetDouble());
        Assert.InRange(total, 0.0, 1.0 + 1e-6);
    }

    [Fact]
    public void EvaluateRefusesACorruptModelFile()
    {
        string path = Path.Combine(SyntheticData.TempFolder(), "model.gpucnn");
        File.WriteAllBytes(path, new byte[200]);
        var r = CliRunner.Run("evaluate", path);
        Assert.Equal(2, r.ExitCode);
        Messages.Says(r.Error, "not a GpuCnn checkpoint");
    }
}
