using System.Diagnostics;
using System.Text.Json;
using GpuCnn.IO;
using ILGPU.Runtime;

namespace GpuCnn.Devices;

/// <summary>
/// Measured choices between kernel variants that compute the same thing and differ in speed,
/// which depends on the device (the implicit convolutions' tiles: a host with AVX-512 and one with
/// AVX2 favour different ones; the register tiles give the same bits, the fused Winograd tiles
/// round differently). On a key's first use every candidate runs once to compile and warm up,
/// then <see cref="Rounds"/> times in alternation with the device synchronised around each run;
/// the lowest time wins. Other work on the machine (other VMs on a shared host) only ever adds
/// time to a run, so a candidate's fastest run is the closest to its own speed. The choices
/// persist in one JSON file per device (see <see cref="FileFor"/>), so later runs skip the
/// measurement; delete the file to measure again. Beside each choice the file keeps every
/// candidate's fastest time, so why a tile won can be read there. The file names the kernels
/// it was measured with (<see cref="KernelsFingerprint"/>): other kernels, as after an update that
/// changed their code, are measured again.
/// </summary>
public sealed class KernelTuner(Accelerator accelerator, string? file, string? kernels = null)
{
    public const int Rounds = 7;

    /// <summary>
    /// The kernels' build: the GpuCnn.Kernels assembly's module version id, which deterministic
    /// builds derive from its content, so it changes exactly when a kernel's code does.
    /// </summary>
    public static readonly string KernelsFingerprint = typeof(GpuCnn.Kernels.Conv2dKernels).Assembly.ManifestModule.ModuleVersionId.ToString("N");

    /// <summary>One process may hold several tuners of a device (tests); they share its file.</summary>
    static readonly object FileLock = new();

    readonly string kernels = kernels ?? KernelsFingerprint;

    /// <summary>The choices by stored key, and each candidate's fastest time in milliseconds: measured by this tuner or read from the file.</summary>
    readonly (Dictionary<string, int> Choices, Dictionary<string, SortedDictionary<string, double>> Fastest) known = Load(file, kernels ?? KernelsFingerprint);

    /// <summary>
    /// Where a device's choices are kept: KIND-NAME.json in the tuning folder (<see cref="Folder"/>),
    /// or KIND-NAME-vBITS.json for kernels built to prefer BITS-wide vectors (<see cref="LaunchPlan.VectorBits"/>),
    /// as other code makes other tiles fastest.
    /// </summary>
    public static string FileFor(DeviceInfo device, int vectorBits = 0)
    {
        string name = new([.. $"{device.KindName}-{device.Name}{(vectorBits > 0 ? $"-v{vectorBits}" : "")}".Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '_')]);
        return Path.Combine(Folder(), name + ".json");
    }

    /// <summary>$GPUCNN_TUNING, else tuning/ in GpuCnn's cache folder (the tests keep their own, so their small shapes stay out of a user's file).</summary>
    public static string Folder()
    {
        string? own = Environment.GetEnvironmentVariable("GPUCNN_TUNING");
        return !string.IsNullOrEmpty(own) ? own : Path.Combine(CacheFolder.Root(), "tuning");
    }

    readonly Dictionary<string, int> used = [];

    /// <summary>Every choice known: measured by this tuner or read from the device's file.</summary>
    public IReadOnlyDictionary<string, int> Choices => known.Choices;

    /// <summary>Every candidate's fastest run in milliseconds, by stored key (<see cref="StoredKey"/>) and candidate.</summary>
    public IReadOnlyDictionary<string, SortedDictionary<string, double>> Fastest => known.Fastest;

    /// <summary>The choices this tuner has handed out, by key.</summary>
    public IReadOnlyDictionary<string, int> Used => used;

    /// <summary>
    /// The known choice for key among these candidates, else the fastest candidate of
    /// <paramref name="run"/> (each run does the whole operation). A choice is kept with its
    /// candidates, so a new candidate (a tile added in an update) is measured too.
    /// </summary>
    public int Choose(string key, IReadOnlyList<int> candidates, Action<int> run) =>
        used[key] = Measure(StoredKey(key, candidates), candidates, run);

    /// <summary>A choice's key in the file: "key among c1 c2 ...".</summary>
    public static string StoredKey(string key, IReadOnlyList<int> candidates) => $"{key} among {string.Join(' ', candidates)}";

    int Measure(string key, IReadOnlyList<int> candidates, Action<int> run)
    {
        if (known.Choices.TryGetValue(key, out int choice)) return choice;
        foreach (int candidate in candidates) run(candidate);
        accelerator.Synchronize();
        var times = candidates.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round < Rounds; round++)
            for (int i = 0; i < candidates.Count; i++)
            {
                long start = Stopwatch.GetTimestamp();
                run(candidates[i]);
                accelerator.Synchronize();
                times[i].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        int best = candidates[Enumerable.Range(0, candidates.Count).MinBy(i => times[i].Min())];
        known.Choices[key] = best;
        var fastest = new SortedDictionary<string, double>();
        for (int i = 0; i < candidates.Count; i++) fastest[candidates[i].ToString()] = Math.Round(times[i].Min(), 4);
        known.Fastest[key] = fastest;
        Save();
        return best;
    }

    /// <summary>The file's contents: the kernels it was measured with, the choice per key, and each candidate's fastest time (ms).</summary>
    sealed record TuningFile(string Kernels, SortedDictionary<string, int> Choices,
        SortedDictionary<string, SortedDictionary<string, double>>? Fastest = null);

    /// <summary>The file's choices and times if it was measured with these kernels; none otherwise (measured again, and the file rewritten).</summary>
    static (Dictionary<string, int> Choices, Dictionary<string, SortedDictionary<string, double>> Fastest) Load(string? file, string kernels)
    {
        if (file is null || !File.Exists(file)) return ([], []);
        try
        {
            var saved = JsonSerializer.Deserialize<TuningFile>(File.ReadAllText(file));
            return saved?.Kernels == kernels && saved.Choices is not null ? (new(saved.Choices), new(saved.Fastest ?? [])) : ([], []);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return ([], []);
        }
    }

    /// <summary>Adds this tuner's choices to the file's (another process may have added its own), written whole or not at all.</summary>
    void Save()
    {
        if (file is null) return;
        lock (FileLock)
        {
            var (saved, savedTimes) = Load(file, kernels);
            var merged = new SortedDictionary<string, int>(saved);
            foreach (var (key, value) in known.Choices) merged[key] = value;
            var times = new SortedDictionary<string, SortedDictionary<string, double>>(savedTimes);
            foreach (var (key, value) in known.Fastest) times[key] = value;
            try
            {
                AtomicFile.WriteText(file, JsonSerializer.Serialize(new TuningFile(kernels, merged, times), new JsonSerializerOptions { WriteIndented = true }));
            }
            catch (Exception e) when (e is FileWriteException or IOException or UnauthorizedAccessException)
            {
                // A cache that cannot be written only costs the measurement again next time.
            }
        }
    }
}
