using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace GpuCnn.Tests.Board;

/// <summary>
/// Debian's Chromium, headless, on one page, asked questions through the DevTools protocol
/// (Runtime.evaluate over its WebSocket): the page runs as it would for a user, scripts, server-sent
/// events and all, and the test reads its DOM while it changes.
/// </summary>
public sealed class HeadlessChromium : IDisposable
{
    readonly Process process;
    readonly string profile;
    readonly ClientWebSocket socket = new();
    int nextId;

    /// <summary>The browser program on PATH, or null.</summary>
    public static string? Program() => OptionalRuntime.OnPath("chromium") ?? OptionalRuntime.OnPath("chromium-browser");

    /// <summary>Nothing when Chromium is there; a skip otherwise, or a failure where GPUCNN_REQUIRE_CHROMIUM=1 (CI).</summary>
    public static void Require() =>
        OptionalRuntime.Require("CHROMIUM", Program() is null ? "chromium is not on PATH (Debian: apt-get install chromium)" : null);

    HeadlessChromium(Process process, string profile)
    {
        this.process = process;
        this.profile = profile;
    }

    /// <summary>Starts the browser on <paramref name="url"/> and connects to that page.</summary>
    public static HeadlessChromium Open(Uri url)
    {
        string profile = SyntheticData.TempFolder();
        var start = new ProcessStartInfo(Program()!) { RedirectStandardOutput = true, RedirectStandardError = true };
        // No sandbox: CI runs the tests as root, where Chromium's sandbox refuses to start, and the page is the board's own.
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--no-default-browser-check", "--window-size=1280,900", $"--user-data-dir={profile}", "--remote-debugging-port=0", url.ToString() })
            start.ArgumentList.Add(a);
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var browser = new HeadlessChromium(process, profile);
        try
        {
            browser.Connect(url);
            return browser;
        }
        catch
        {
            browser.Dispose();
            throw;
        }
    }

    void Connect(Uri url)
    {
        // With port 0, Chromium writes the port it took into the profile.
        string portFile = Path.Combine(profile, "DevToolsActivePort");
        var clock = Stopwatch.StartNew();
        while (!File.Exists(portFile) || File.ReadAllText(portFile).Split('\n')[0].Trim().Length == 0)
        {
            if (process.HasExited) throw new InvalidOperationException($"chromium exited with code {process.ExitCode} before it listened");
            if (clock.Elapsed > TimeSpan.FromMinutes(1)) throw new TimeoutException("chromium did not write DevToolsActivePort within a minute");
            Thread.Sleep(100);
        }
        int port = int.Parse(File.ReadAllText(portFile).Split('\n')[0].Trim());
        using var http = new HttpClient();
        string? target = null;
        while ((target = PageTarget(http, port, url)) is null)
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(1)) throw new TimeoutException("chromium opened no page of the board within a minute");
            Thread.Sleep(100);
        }
        if (!socket.ConnectAsync(new Uri(target), CancellationToken.None).Wait(TimeSpan.FromSeconds(30)))
            throw new TimeoutException("chromium's DevTools socket did not connect within 30 s");
    }

    /// <summary>The DevTools socket of the browser's page on the board, or null while there is none (or the browser does not answer yet).</summary>
    static string? PageTarget(HttpClient http, int port, Uri url)
    {
        try
        {
            var pages = JsonDocument.Parse(http.GetStringAsync($"http://127.0.0.1:{port}/json/list").Result).RootElement;
            return pages.EnumerateArray()
                .Where(p => p.GetProperty("type").GetString() == "page" && p.GetProperty("url").GetString()!.StartsWith(url.GetLeftPart(UriPartial.Authority)))
                .Select(p => p.GetProperty("webSocketDebuggerUrl").GetString()).FirstOrDefault();
        }
        catch (AggregateException e) when (e.InnerException is HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>The value of a JavaScript expression in the page (returned by value, as JSON).</summary>
    public JsonElement Evaluate(string expression)
    {
        int id = ++nextId;
        string request = JsonSerializer.Serialize(new { id, method = "Runtime.evaluate", @params = new { expression, returnByValue = true } });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        socket.SendAsync(Encoding.UTF8.GetBytes(request), WebSocketMessageType.Text, true, timeout.Token).Wait();
        while (true)
        {
            // The page's own events (none are enabled, but the protocol may send some) are passed over until the answer.
            var message = JsonDocument.Parse(Receive(timeout.Token)).RootElement;
            if (!message.TryGetProperty("id", out var answered) || answered.GetInt32() != id) continue;
            if (message.TryGetProperty("error", out var error)) throw new InvalidOperationException($"DevTools: {error}");
            var result = message.GetProperty("result");
            if (result.TryGetProperty("exceptionDetails", out var thrown)) throw new InvalidOperationException($"the page threw: {thrown}");
            var value = result.GetProperty("result");
            return value.TryGetProperty("value", out var v) ? v.Clone() : default;
        }
    }

    string Receive(CancellationToken cancel)
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        WebSocketReceiveResult part;
        do
        {
            part = socket.ReceiveAsync(buffer, cancel).Result;
            message.Write(buffer, 0, part.Count);
        } while (!part.EndOfMessage);
        return Encoding.UTF8.GetString(message.ToArray());
    }

    public void Dispose()
    {
        socket.Dispose();
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
        catch (InvalidOperationException) { }
        process.Dispose();
        try
        {
            Directory.Delete(profile, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
