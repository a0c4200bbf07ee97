using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace GpuCnn.Board;

/// <summary>
/// The board's web server: Kestrel on one address, answering GET requests only, from the page
/// embedded in this assembly and from the files of <see cref="RunsDirectory"/>, read at each
/// request. The endpoints:
/// <code>
///   /                      the page (index.html, board.js, board.css)
///   /api/runs              the folder and its runs
///   /api/run?id=ID         one run: metrics, settings, command, summary, report, test results, class names
///   /api/file?id=ID&amp;name=N a run's file as it is, for N among RunsDirectory.ServedFiles
///   /api/events?id=ID...   server-sent events with the runs' new metrics rows (MetricsStream)
/// </code>
/// Anything else, and any id or name that leads outside the folder, is 404.
/// </summary>
public sealed class BoardServer : IAsyncDisposable
{
    readonly WebApplication app;

    /// <summary>The address it answers on, e.g. http://127.0.0.1:6007/ (with the port the system gave when 0 was asked for).</summary>
    public Uri Url { get; }

    BoardServer(WebApplication app, Uri url)
    {
        this.app = app;
        Url = url;
    }

    /// <summary>Starts serving <paramref name="runs"/> on <paramref name="address"/>:<paramref name="port"/> (0: any free port); a BoardException when it cannot listen there.</summary>
    public static async Task<BoardServer> StartAsync(RunsDirectory runs, IPAddress address, int port)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        // Only what goes wrong inside a request, on stderr; a failure to start is the one line the caller reports.
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning)
            .AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(address, port));
        // Kestrel's own addresses only: ASPNETCORE_URLS and the like do not move the board.
        builder.WebHost.UseSetting(WebHostDefaults.PreferHostingUrlsKey, "false");
        var app = builder.Build();
        app.Use(LocalHostsOnly(address));
        app.Use(Headers);
        BoardRoutes.Map(app, runs);
        try
        {
            await app.StartAsync();
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            await app.DisposeAsync();
            throw new BoardException($"cannot listen on {new IPEndPoint(address, port)}: {e.InnerException?.Message ?? e.Message}", e);
        }
        string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new BoardServer(app, new Uri(bound.TrimEnd('/') + "/"));
    }

    /// <summary>
    /// On a loopback address, requests must name the host as an address or "localhost": a web
    /// page elsewhere whose name is made to resolve to 127.0.0.1 (DNS rebinding) gets 400, not the runs.
    /// </summary>
    static Func<HttpContext, RequestDelegate, Task> LocalHostsOnly(IPAddress address) => (context, next) =>
    {
        string host = context.Request.Host.Host;
        bool allowed = !IPAddress.IsLoopback(address) || host == "localhost" || IPAddress.TryParse(host, out _);
        if (allowed) return next(context);
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        return Task.CompletedTask;
    };

    /// <summary>
    /// The page takes scripts, styles, pictures and data from the board alone (it is built to need
    /// nothing from the network), and answers are never cached, as the runs change under them.
    /// </summary>
    static Task Headers(HttpContext context, RequestDelegate next)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'";
        headers.XContentTypeOptions = "nosniff";
        headers.CacheControl = "no-store";
        headers["Referrer-Policy"] = "no-referrer";
        return next(context);
    }

    /// <summary>Runs until the process is asked to stop (Ctrl+C, SIGTERM).</summary>
    public Task WaitForShutdownAsync() => app.WaitForShutdownAsync();

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
