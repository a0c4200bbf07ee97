using GpuCnn.Data;
using GpuCnn.Persistence;

namespace GpuCnn.Board;

/// <summary>
/// The folder the board shows, and the only way the board reaches a file: a run is named by its
/// path below the root ('/'-separated, e.g. "compare/seed/seed-42"), and a name that leaves the
/// root (an empty, "." or ".." segment, a backslash, an absolute path) or that resolves, through
/// symbolic links, to a place outside the root's own real path names nothing. Nothing is kept
/// between calls: every answer is read from the disk when asked.
/// </summary>
public sealed class RunsDirectory
{
    /// <summary>The run's files the board serves as they are; any other name is refused.</summary>
    public static readonly IReadOnlyList<string> ServedFiles =
    [
        RunFiles.MetricsCsv, RunFiles.MetricsJson, RunFiles.Settings, RunFiles.Command, RunFiles.Summary,
        RunFiles.Report, RunFiles.TestResults, RunFiles.TrainingPlot, RunFiles.ConfusionPlot,
    ];

    /// <summary>How deep below the root runs are looked for (a compare campaign puts them at campaign/model/seed-N).</summary>
    const int SearchDepth = 4;

    /// <summary>Enough for any real folder of runs; it bounds the work of one listing.</summary>
    const int MostRuns = 2000;

    /// <summary>The most symbolic links one path may pass through (Linux's own limit), so a loop of links ends.</summary>
    const int MostLinks = 40;

    public string Root { get; }
    readonly string realRoot;

    /// <summary>The folder <paramref name="root"/>; a DataFileException naming it when it is not a folder.</summary>
    public RunsDirectory(string root)
    {
        Root = Path.GetFullPath(root);
        if (!Directory.Exists(Root)) throw new DataFileException(root, "no such folder of runs");
        realRoot = RealPath(Root) ?? throw new DataFileException(root, "its path goes through a loop of symbolic links");
    }

    /// <summary>Whether a folder holds a run: its settings (written first) or its metrics.</summary>
    static bool IsRun(string folder) =>
        System.IO.File.Exists(Path.Combine(folder, RunFiles.Settings)) || System.IO.File.Exists(Path.Combine(folder, RunFiles.MetricsCsv));

    /// <summary>The runs below the root, by id, in no particular order; links that lead outside are passed over.</summary>
    public IReadOnlyList<(string Id, string Folder)> List()
    {
        var runs = new List<(string, string)>();
        var pending = new Queue<(string Folder, int Depth)>([(Root, 0)]);
        while (pending.Count > 0 && runs.Count < MostRuns)
        {
            var (folder, depth) = pending.Dequeue();
            IEnumerable<string> children;
            try
            {
                children = Directory.EnumerateDirectories(folder).Order(StringComparer.Ordinal).ToList();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            foreach (var child in children)
            {
                if (Path.GetFileName(child).StartsWith('.') || !IsInside(child)) continue;
                if (IsRun(child)) runs.Add((Id(child), child));
                else if (depth + 1 < SearchDepth) pending.Enqueue((child, depth + 1));
            }
        }
        return runs;
    }

    string Id(string folder) => Path.GetRelativePath(Root, folder).Replace(Path.DirectorySeparatorChar, '/');

    /// <summary>The folder of the run named <paramref name="id"/>, or null when the id names no run inside the root.</summary>
    public string? Run(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 1024) return null;
        var segments = id.Split('/');
        if (segments.Any(s => s.Length == 0 || s.StartsWith('.') || s.IndexOfAny(['\\', '\0', ':']) >= 0)) return null;
        string folder = Path.Combine([Root, .. segments]);
        return Directory.Exists(folder) && IsInside(folder) && IsRun(folder) ? folder : null;
    }

    /// <summary>The file <paramref name="name"/> of a run, or null when it is not one the board serves, is absent, or leads outside the root.</summary>
    public string? File(string? id, string? name)
    {
        return name is not null && ServedFiles.Contains(name) && Run(id) is { } folder ? FileIn(folder, name) : null;
    }

    /// <summary>The file <paramref name="name"/> of a run folder <see cref="Run"/> gave, or null when it is absent or leads outside the root.</summary>
    public string? FileIn(string folder, string name)
    {
        string file = Path.Combine(folder, name);
        return System.IO.File.Exists(file) && IsInside(file) ? file : null;
    }

    /// <summary>Whether the real path of <paramref name="path"/> (every link on the way followed) lies below the root's.</summary>
    bool IsInside(string path) =>
        RealPath(path) is { } real && real.StartsWith(realRoot.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>The path with every symbolic link on it followed, one segment at a time; null for a loop of links.</summary>
    static string? RealPath(string path, int linksLeft = MostLinks)
    {
        string full = Path.GetFullPath(path);
        string real = Path.GetPathRoot(full)!;
        foreach (var segment in full[real.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            string next = Path.Combine(real, segment);
            string? target = new FileInfo(next).LinkTarget;
            if (target is null)
            {
                real = next;
                continue;
            }
            if (--linksLeft < 0) return null;
            // A relative target is relative to the link's own folder, which is real already.
            real = RealPath(Path.Combine(real, target), linksLeft) ?? "";
            if (real.Length == 0) return null;
        }
        return real;
    }
}
