using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using GpuCnn.Runs;

namespace GpuCnn.Board;

/// <summary>
/// The server-sent events that keep the page's curves live: for each run asked for, every row of
/// its metrics.csv ("row", then each new one as the run writes it), "reset" if the file ever
/// holds fewer rows than were sent (the rows follow again), and "finished" once test_results.json
/// is there, after which that run is no longer watched. One stream carries several runs, so a
/// browser's few connections per host are not spent one per run. The rows sent so far are the
/// stream's own; the board keeps nothing between requests.
/// </summary>
public static class MetricsStream
{
    /// <summary>How often the watched files are read again: epochs last seconds at the least, and a read of metrics.csv is a few kilobytes.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    /// <summary>The most runs one stream watches.</summary>
    public const int MostRuns = 64;

    sealed class Watched(string id, string folder)
    {
        public string Id { get; } = id;
        public string Folder { get; } = folder;
        public int Sent { get; set; }
    }

    public static async IAsyncEnumerable<SseItem<string>> Events(RunsDirectory runs, IReadOnlyList<(string Id, string Folder)> asked,
        [EnumeratorCancellation] CancellationToken cancel)
    {
        var watched = asked.Select(r => new Watched(r.Id, r.Folder)).ToList();
        while (watched.Count > 0 && !cancel.IsCancellationRequested)
        {
            foreach (var run in watched.ToList())
            {
                // Whether it finished is read before the rows, so the rows it finished with are all sent before "finished".
                bool finished = RunFolder.IsFinished(run.Folder);
                var rows = RunView.Metrics(runs, run.Folder);
                if (rows.Count < run.Sent)
                {
                    yield return new SseItem<string>(JsonSerializer.Serialize(new { run = run.Id }), "reset");
                    run.Sent = 0;
                }
                for (; run.Sent < rows.Count; run.Sent++)
                    yield return new SseItem<string>(JsonSerializer.Serialize(new { run = run.Id, row = rows[run.Sent] }), "row");
                if (finished)
                {
                    yield return new SseItem<string>(JsonSerializer.Serialize(new { run = run.Id }), "finished");
                    watched.Remove(run);
                }
            }
            await Task.Delay(Interval, cancel).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}
