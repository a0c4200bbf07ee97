using GpuCnn.Layers;
using GpuCnn.Models;
using GpuCnn.Reporting;
using GpuCnn.Training;

namespace GpuCnn.Tests.Reporting;

/// <summary>The count of images scored while the test set is evaluated: redrawn on a terminal, one final line everywhere.</summary>
[Collection("devices")]
public sealed class ScoringProgressTests(TestDevices devices)
{
    [Fact]
    public void OnATerminalTheCountIsRedrawnInPlaceThenAFinalLineStays()
    {
        var output = new StringWriter();
        var progress = new ScoringProgress(output, live: true);
        progress.Report(4096, 10000);
        progress.Report(8192, 10000);
        progress.Report(10000, 10000);
        string text = output.ToString();
        Assert.StartsWith("\r4,096/10,000 test images scored\r8,192/10,000 test images scored\r", text);
        var lines = text.Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.Matches(@"\r10,000/10,000 test images scored in [0-9]+\.[0-9] s$", lines[0]);
        Assert.Equal("", lines[1]);
    }

    [Fact]
    public void ElsewhereOnlyTheFinalLineIsWritten()
    {
        var output = new StringWriter();
        var progress = new ScoringProgress(output, live: false);
        progress.Report(4096, 10000);
        progress.Report(10000, 10000);
        Assert.Matches(@"^10,000/10,000 test images scored in [0-9]+\.[0-9] s\r?\n$", output.ToString());
    }

    [Fact]
    public void EvaluateReportsRisingCountsAndEndsWithTheWholeSetOnce()
    {
        var images = SyntheticData.Images(200, 3);
        var network = new Sequential("tiny", [28, 28, 1], [new Conv2D(4, 3, Activation.Relu), new MaxPool2D(2), new Flatten(), new Dense(10)]);
        using var model = GpuCnn.Model.Compile(network, devices.Cpu, new Hyperparameters { BatchSize = 16 });
        var reports = new List<(int Scored, int Total)>();
        var evaluation = model.Evaluate(images, progress: (scored, total) => reports.Add((scored, total)));
        Assert.Equal(200, evaluation.Labels.Length);
        Assert.Equal((200, 200), reports[^1]);
        Assert.Single(reports, r => r.Scored == r.Total);
        Assert.All(reports, r => Assert.Equal(200, r.Total));
        Assert.Equal(reports.Select(r => r.Scored).Order(), reports.Select(r => r.Scored));
    }
}
