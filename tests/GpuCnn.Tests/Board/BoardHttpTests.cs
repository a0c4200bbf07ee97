using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using GpuCnn.Board;
using GpuCnn.Data;
using GpuCnn.IO;
using GpuCnn.Persistence;

namespace GpuCnn.Tests.Board;

/// <summary>The board's endpoints against a real Kestrel on a free port, over a folder holding a real run.</summary>
public sealed class BoardHttpTests(TrainedRun trained) : IClassFixture<TrainedRun>
{
    static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>A runs folder holding a copy of the trained run as "tiny" and again as a compare campaign's run.</summary>
    string RunsFolder()
    {
        string runs = SyntheticData.TempFolder();
        trained.CopyTo(Path.Combine(runs, "tiny"));
        trained.CopyTo(Path.Combine(runs, "campaign", "seed", "seed-42"));
        return runs;
    }

    static Task<BoardServer> Start(string runs) => BoardServer.StartAsync(new RunsDirectory(runs), IPAddress.Loopback, 0);

    static async Task<JsonElement> GetJson(BoardServer board, string path)
    {
        var response = await Http.GetAsync(new Uri(board.Url, path));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    [Fact]
    public async Task TheRunListAndARunsDataAreReadFromItsFolder()
    {
        string runs = RunsFolder();
        await using var board = await Start(runs);
        var list = await GetJson(board, "api/runs");
        Assert.Equal(Path.GetFullPath(runs), list.GetProperty("root").GetString());
        Assert.Equal(["campaign/seed/seed-42", "tiny"], list.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("id").GetString()).Order());
        var tiny = list.GetProperty("runs").EnumerateArray().Single(r => r.GetProperty("id").GetString() == "tiny");
        var test = JsonDocument.Parse(File.ReadAllText(Path.Combine(trained.Folder, RunFiles.TestResults))).RootElement;
        Assert.Equal("seed", tiny.GetProperty("model").GetString());
        Assert.Equal(2, tiny.GetProperty("epochs").GetInt32());
        Assert.Equal(2, tiny.GetProperty("plannedEpochs").GetInt32());
        Assert.Equal("finished", tiny.GetProperty("state").GetString());
        Assert.Equal(test.GetProperty("test_accuracy").GetDouble(), tiny.GetProperty("testAccuracy").GetDouble());

        var run = await GetJson(board, "api/run?id=tiny");
        var csv = File.ReadAllLines(Path.Combine(trained.Folder, RunFiles.MetricsCsv));
        var columns = csv[0].Split(',');
        var rows = run.GetProperty("metrics").EnumerateArray().ToList();
        Assert.Equal(csv.Length - 1, rows.Count);
        for (int r = 0; r < rows.Count; r++)
            for (int c = 0; c < columns.Length; c++)
                Assert.Equal(double.Parse(csv[r + 1].Split(',')[c], CultureInfo.InvariantCulture), rows[r].GetProperty(columns[c]).GetDouble());
        Assert.Equal(FashionMnist.ClassNames, run.GetProperty("classNames").EnumerateArray().Select(n => n.GetString()));
        Assert.Equal(File.ReadAllText(Path.Combine(trained.Folder, RunFiles.Report)), run.GetProperty("report").GetString());
        Assert.Equal(JsonSerializer.Serialize(test.GetProperty("confusion")), JsonSerializer.Serialize(run.GetProperty("test").GetProperty("confusion")));
        Assert.Equal("seed", run.GetProperty("settings").EnumerateObject().Single(p => p.Name.Equals("model", StringComparison.OrdinalIgnoreCase)).Value.GetString());
        Assert.Equal(JsonValueKind.Object, (await GetJson(board, "api/run?id=campaign/seed/seed-42")).GetProperty("settings").ValueKind);

        // A served file comes as it is on the disk.
        var png = await Http.GetByteArrayAsync(new Uri(board.Url, $"api/file?id=tiny&name={RunFiles.ConfusionPlot}"));
        Assert.Equal(File.ReadAllBytes(Path.Combine(trained.Folder, RunFiles.ConfusionPlot)), png);
    }

    [Fact]
    public async Task ThePageIsServedFromTheAssemblyAndLoadsNothingFromElsewhere()
    {
        await using var board = await Start(RunsFolder());
        var page = await Http.GetAsync(board.Url);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        string html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<script src=\"board.js\"", html);
        Assert.StartsWith("default-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
        foreach (var asset in new[] { "board.js", "board.css" })
        {
            string text = await Http.GetStringAsync(new Uri(board.Url, asset));
            Assert.DoesNotContain("http://", text.Replace("http://www.w3.org/2000/svg", ""));
            Assert.DoesNotContain("https://", text);
        }
    }

    /// <summary>Reads server-sent events until one of <paramref name="type"/> for which <paramref name="wanted"/> holds; its data.</summary>
    static async Task<JsonElement> NextEvent(StreamReader events, string type, Func<JsonElement, bool> wanted)
    {
        string? eventType = null;
        while (await events.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal)) eventType = line["event: ".Length..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal) && eventType == type)
            {
                var data = JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone();
                if (wanted(data)) return data;
            }
        }
        throw new EndOfStreamException($"the stream ended before a '{type}' event");
    }

    [Fact]
    public async Task TheEventStreamSendsARowAppendedToMetricsCsvAndThenTheEndOfTheRun()
    {
        string runs = SyntheticData.TempFolder();
        string live = Path.Combine(runs, "live");
        Directory.CreateDirectory(live);
        File.Copy(Path.Combine(trained.Folder, RunFiles.Settings), Path.Combine(live, RunFiles.Settings));
        var csv = File.ReadAllLines(Path.Combine(trained.Folder, RunFiles.MetricsCsv));
        string metrics = Path.Combine(live, RunFiles.MetricsCsv);
        // As training writes it: the whole file again after each epoch, by a rename.
        AtomicFile.WriteText(metrics, string.Join('\n', csv[..2]) + '\n');
        await using var board = await Start(runs);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var response = await Http.GetAsync(new Uri(board.Url, "api/events?id=live"), HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var events = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        var first = await NextEvent(events, "row", _ => true);
        Assert.Equal("live", first.GetProperty("run").GetString());
        Assert.Equal(1, first.GetProperty("row").GetProperty("epoch").GetInt32());

        AtomicFile.WriteText(metrics, string.Join('\n', csv[..3]) + '\n');
        var second = await NextEvent(events, "row", _ => true);
        Assert.Equal(2, second.GetProperty("row").GetProperty("epoch").GetInt32());
        Assert.Equal(double.Parse(csv[2].Split(',')[1], CultureInfo.InvariantCulture), second.GetProperty("row").GetProperty("loss").GetDouble());

        File.Copy(Path.Combine(trained.Folder, RunFiles.TestResults), Path.Combine(live, RunFiles.TestResults));
        Assert.Equal("live", (await NextEvent(events, "finished", _ => true)).GetProperty("run").GetString());
        // Nothing is left to watch: the stream ends.
        Assert.DoesNotContain("event:", await events.ReadToEndAsync(timeout.Token));
    }

    /// <summary>A request as bytes on a socket, so that its path reaches Kestrel as written (HttpClient would tidy the dot segments away).</summary>
    static (int Status, string Text) Raw(Uri board, string target)
    {
        using var client = new TcpClient(board.Host, board.Port);
        using var stream = client.GetStream();
        stream.Write(Encoding.ASCII.GetBytes($"GET {target} HTTP/1.1\r\nHost: {board.Authority}\r\nConnection: close\r\n\r\n"));
        string text = new StreamReader(stream).ReadToEnd();
        return (int.Parse(text.Split(' ')[1], CultureInfo.InvariantCulture), text);
    }

    [Fact]
    public async Task NothingOutsideTheRunsFolderIsServed()
    {
        string sandbox = SyntheticData.TempFolder();
        string runs = Path.Combine(sandbox, "runs");
        trained.CopyTo(Path.Combine(runs, "tiny"));
        // Outside: a secret file and a run; inside: a link to that run, and a run whose report is a link to the secret.
        const string Secret = "the secret outside the runs folder";
        string outside = Path.Combine(sandbox, "outside");
        trained.CopyTo(Path.Combine(outside, "run"));
        File.WriteAllText(Path.Combine(outside, "secret.txt"), Secret);
        File.WriteAllText(Path.Combine(outside, "run", RunFiles.Report), Secret);
        Directory.CreateSymbolicLink(Path.Combine(runs, "linked"), Path.Combine(outside, "run"));
        trained.CopyTo(Path.Combine(runs, "leaky"));
        File.Delete(Path.Combine(runs, "leaky", RunFiles.Report));
        File.CreateSymbolicLink(Path.Combine(runs, "leaky", RunFiles.Report), Path.Combine("..", "..", "outside", "secret.txt"));

        await using var board = await Start(runs);
        var listed = (await GetJson(board, "api/runs")).GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("id").GetString()).Order();
        Assert.Equal(["leaky", "tiny"], listed);
        var leaky = await GetJson(board, "api/run?id=leaky");
        Assert.Equal(JsonValueKind.Null, leaky.GetProperty("report").ValueKind);

        string[] refused =
        [
            "api/run?id=..", "api/run?id=%2e%2e", "api/run?id=%2E%2E%2Foutside%2Frun", "api/run?id=../outside/run", "api/run?id=tiny/../../outside/run",
            "api/run?id=/etc", "api/run?id=%2Fetc", $"api/run?id={Uri.EscapeDataString(Path.Combine(outside, "run"))}", "api/run?id=linked",
            "api/run?id=.", "api/run?id=", "api/run", "api/run?id=tiny%5C..%5C..%5Coutside%5Crun", "api/run?id=tiny%00",
            "api/file?id=tiny&name=../../outside/secret.txt", "api/file?id=tiny&name=%2e%2e%2f%2e%2e%2foutside%2fsecret.txt",
            $"api/file?id=tiny&name={Uri.EscapeDataString(Path.Combine(outside, "secret.txt"))}", "api/file?id=tiny&name=/etc/passwd",
            $"api/file?id=tiny&name={RunFiles.Model}", $"api/file?id=linked&name={RunFiles.Report}", $"api/file?id=leaky&name={RunFiles.Report}",
            "api/file?id=..&name=secret.txt", "api/events?id=linked", "api/events?id=..", "api/events?id=%2e%2e%2foutside%2frun",
            "api/nothing", "secret.txt", "..%2foutside%2fsecret.txt",
        ];
        foreach (var path in refused)
        {
            var response = await Http.GetAsync(new Uri(board.Url, path));
            Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest, $"{path}: {response.StatusCode}");
            Assert.DoesNotContain(Secret, await response.Content.ReadAsStringAsync());
        }
        foreach (var target in new[] { "/../outside/secret.txt", "/%2e%2e/outside/secret.txt", "/api/../../outside/secret.txt", "/..%2F..%2Foutside%2Fsecret.txt",
                     "//outside/secret.txt", $"{Path.Combine(outside, "secret.txt")}", "/api/file/../../../outside/secret.txt" })
        {
            var (status, text) = Raw(board.Url, target);
            Assert.True(status is 400 or 404, $"{target}: {status}");
            Assert.DoesNotContain(Secret, text);
        }
    }

    [Fact]
    public async Task ALoopbackBoardAnswersOnlyRequestsThatNameItByAddressOrLocalhost()
    {
        await using var board = await Start(RunsFolder());
        foreach (var (host, expected) in new[] { ($"localhost:{board.Url.Port}", HttpStatusCode.OK), (board.Url.Authority, HttpStatusCode.OK),
                     ($"attacker.example:{board.Url.Port}", HttpStatusCode.BadRequest) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(board.Url, "api/runs"));
            request.Headers.Host = host;
            Assert.Equal(expected, (await Http.SendAsync(request)).StatusCode);
        }
    }
}
