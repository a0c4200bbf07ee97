using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace GpuCnn.Board;

/// <summary>The board's GET endpoints (listed on <see cref="BoardServer"/>); every answer is read from the disk at the request.</summary>
static class BoardRoutes
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    static readonly Dictionary<string, string> ContentTypes = new(StringComparer.Ordinal)
    {
        [".html"] = "text/html; charset=utf-8", [".js"] = "text/javascript; charset=utf-8", [".css"] = "text/css; charset=utf-8",
        [".csv"] = "text/csv; charset=utf-8", [".json"] = "application/json; charset=utf-8", [".txt"] = "text/plain; charset=utf-8",
        [".png"] = "image/png",
    };

    static string ContentType(string name) => ContentTypes[Path.GetExtension(name)];

    public static void Map(IEndpointRouteBuilder app, RunsDirectory runs)
    {
        app.MapGet("/", () => Page("index.html"));
        app.MapGet("/board.js", () => Page("board.js"));
        app.MapGet("/board.css", () => Page("board.css"));
        app.MapGet("/api/runs", () => Results.Json(new { root = runs.Root, runs = RunView.List(runs) }, Json));
        app.MapGet("/api/run", (string? id) =>
            runs.Run(id) is { } folder ? Results.Json(RunView.Details(runs, id!, folder), Json) : Results.NotFound());
        app.MapGet("/api/file", (string? id, string? name) =>
            runs.File(id, name) is { } file ? Results.File(file, ContentType(file)) : Results.NotFound());
        app.MapGet("/api/events", (HttpContext context) =>
        {
            var ids = context.Request.Query["id"].Distinct().ToList();
            if (ids.Count is 0 or > MetricsStream.MostRuns) return Results.BadRequest();
            var asked = ids.Select(id => (Id: id!, Folder: runs.Run(id))).ToList();
            if (asked.Any(r => r.Folder is null)) return Results.NotFound();
            return TypedResults.ServerSentEvents(MetricsStream.Events(runs, asked.Select(r => (r.Id, r.Folder!)).ToList(), context.RequestAborted));
        });
    }

    /// <summary>A file of the page, from this assembly's resources (Page/ in the source).</summary>
    static IResult Page(string name) =>
        Results.Stream(typeof(BoardRoutes).Assembly.GetManifestResourceStream("page/" + name)!, ContentType(name));
}
