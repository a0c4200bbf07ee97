using System.Diagnostics;
using System.Net;
using GpuCnn.Board;
using GpuCnn.Persistence;
using GpuCnn.Tests.Cli;

namespace GpuCnn.Tests.Board;

/// <summary>
/// The board in a real browser: headless Chromium keeps the page open while `gpucnn train` runs
/// into the board's folder, and the page shows the run and draws each epoch as it comes (through
/// the server-sent events; the page is never loaded again). Skips where Chromium is absent; CI
/// installs it and sets GPUCNN_REQUIRE_CHROMIUM=1.
/// </summary>
public sealed class BoardBrowserTests
{
    const int Epochs = 4;

    [Fact]
    public async Task ThePageShowsATrainingRunAndItsCurveGainsPointsAsEpochsEnd()
    {
        HeadlessChromium.Require();
        // Epochs of 768 images take a few of the stream's 500 ms intervals each on the CPU device, so
        // the page sees the curve grow epoch by epoch even when the run is fast (256 let a CI run
        // deliver three epochs at once).
        string data = SyntheticData.WriteFolder(768, 64);
        string runs = SyntheticData.TempFolder();
        await using var board = await BoardServer.StartAsync(new RunsDirectory(runs), IPAddress.Loopback, 0);
        using var browser = HeadlessChromium.Open(new Uri(board.Url, "#runs=live"));
        // Right after navigation the document may have no body yet.
        Until(() => browser.Evaluate("document.body?.dataset.ready ?? ''").GetString() == "1", "the page did not load");

        using var training = Process.Start(CliRunner.StartInfo(TrainedRun.Arguments(data, Path.Combine(runs, "live"), Epochs)))!;
        var stderr = training.StandardError.ReadToEndAsync();
        _ = training.StandardOutput.ReadToEndAsync();
        const string Points = "document.querySelectorAll('#chart-loss circle[data-run=\"live\"][data-series=\"loss\"]').length";
        string testResults = Path.Combine(runs, "live", RunFiles.TestResults);
        var seen = new List<int>();
        var seenWhileTraining = new HashSet<int>();
        bool listed = false;
        var clock = Stopwatch.StartNew();
        // Until the run has ended and the page has drawn every epoch.
        while (clock.Elapsed < TimeSpan.FromMinutes(4) && !(training.HasExited && seen.LastOrDefault() == Epochs))
        {
            listed |= browser.Evaluate("!!document.querySelector('#run-list tr[data-run=\"live\"]')").GetBoolean();
            int points = browser.Evaluate(Points).GetInt32();
            if (seen.Count == 0 || seen[^1] != points) seen.Add(points);
            // Before its test results exist the run is "training" throughout, and the page reads its
            // whole data again only when that state changes: new points now came through the stream.
            if (!File.Exists(testResults)) seenWhileTraining.Add(points);
            Thread.Sleep(150);
        }
        Assert.True(training.WaitForExit(TimeSpan.FromMinutes(1)) && training.ExitCode == 0, await stderr);
        Assert.True(listed, "the run list never showed the run");
        string counts = string.Join(", ", seen);
        // The counts the page showed, in order: they only grow, to one point per epoch, and at least two of them came while the run trained.
        Assert.True(seen.SequenceEqual(seen.Order()), $"the point counts went down: {counts}");
        Assert.Equal(Epochs, seen[^1]);
        Assert.True(seenWhileTraining.Count(c => c > 0) >= 2,
            $"the curve did not gain points while the run trained (counts seen then: {string.Join(", ", seenWhileTraining)}; in all: {counts})");
        Assert.Equal(Epochs, File.ReadAllLines(Path.Combine(runs, "live", RunFiles.MetricsCsv)).Length - 1);

        // The end of the run reaches the page too: its test result and the confusion matrix, a row per class and a header.
        Until(() => browser.Evaluate("document.querySelectorAll('#confusion tr').length").GetInt32() == 11, "the confusion matrix did not appear");
        Assert.StartsWith("Finished: test accuracy", browser.Evaluate("document.getElementById('details-state').textContent").GetString());
    }

    static void Until(Func<bool> condition, string failure)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), failure);
            Thread.Sleep(100);
        }
    }
}
