using GpuCnn.IO;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;
using GpuCnn.Models;

namespace GpuCnn.Persistence;

/// <summary>One named float array of a checkpoint: a parameter, a moving statistic or optimizer state.</summary>
public sealed record NamedArray(string Name, int[] Shape, float[] Values);

/// <summary>
/// The checkpoint and model file format (.gpucnn), version 3, little-endian:
/// <code>
///   8 bytes   magic "GPUCNNCK"
///   int32     format version (3; versions 1 and 2 still load)
///   int32     header length H, then H bytes of UTF-8 JSON: the header of <see cref="HeaderSchema"/>,
///             with an "arrays" list of {name, shape} in payload order. Version 3 writes its
///             schema field by field; versions 1 and 2 serialised a record (<see cref="LegacyHeader"/>).
///             Version 2 added the model's whole architecture, so any model of GpuCnn's layers
///             loads without a zoo name; version 1 models are zoo models, built by their name.
///   float32[] every array's values, back to back
///   32 bytes  SHA-256 of everything above (detects truncation and corruption)
/// </code>
/// Written atomically (temporary file, then rename), so a run killed mid-write keeps the last
/// complete checkpoint.
/// </summary>
public static class Checkpoint
{
    public const int FormatVersion = 3;

    /// <summary>The oldest version this GpuCnn still reads (zoo models, without an architecture).</summary>
    public const int OldestReadableVersion = 1;
    static readonly byte[] Magic = "GPUCNNCK"u8.ToArray();

    public static void Save(string path, CheckpointHeader header, IReadOnlyList<NamedArray> arrays)
    {
        var headerBytes = HeaderSchema.Write(header, arrays.Select(a => (a.Name, a.Shape)));
        int floats = arrays.Sum(a => a.Values.Length);
        var content = new byte[Magic.Length + 8 + headerBytes.Length + 4L * floats + 32];
        var span = content.AsSpan();
        Magic.CopyTo(span);
        BinaryPrimitives.WriteInt32LittleEndian(span[8..], FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(span[12..], headerBytes.Length);
        headerBytes.CopyTo(span[16..]);
        int offset = 16 + headerBytes.Length;
        foreach (var array in arrays)
        {
            foreach (float v in array.Values)
            {
                BinaryPrimitives.WriteSingleLittleEndian(span[offset..], v);
                offset += 4;
            }
        }
        SHA256.HashData(span[..offset], span[offset..]);
        AtomicFile.Write(path, content);
    }

    public static (CheckpointHeader Header, List<NamedArray> Arrays) Load(string path)
    {
        if (Directory.Exists(path)) path = Path.Combine(path, RunFiles.Checkpoint);
        if (!File.Exists(path)) throw new CheckpointException(path, "file not found");
        byte[] content = File.ReadAllBytes(path);
        if (content.Length < 16 + 32 || !content.AsSpan(0, 8).SequenceEqual(Magic))
            throw new CheckpointException(path, "not a GpuCnn checkpoint (bad magic bytes)");
        int version = BinaryPrimitives.ReadInt32LittleEndian(content.AsSpan(8));
        if (version is < OldestReadableVersion or > FormatVersion)
            throw new CheckpointException(path,
                $"checkpoint format version {version}; this GpuCnn reads versions {OldestReadableVersion} to {FormatVersion}");
        var expected = SHA256.HashData(content.AsSpan(0, content.Length - 32));
        if (!expected.AsSpan().SequenceEqual(content.AsSpan(content.Length - 32)))
            throw new CheckpointException(path, "checkpoint is truncated or corrupt (checksum mismatch)");
        int headerLength = BinaryPrimitives.ReadInt32LittleEndian(content.AsSpan(12));
        int end = content.Length - 32;
        if (headerLength < 0 || headerLength > end - 16)
            throw new CheckpointException(path, $"checkpoint header length {headerLength} does not fit the file");
        CheckpointHeader header;
        List<(string Name, int[] Shape)> entries;
        try
        {
            using var json = JsonDocument.Parse(content.AsMemory(16, headerLength));
            (header, entries) = version >= 3 ? HeaderSchema.Read(json.RootElement) : LegacyHeader.Read(json.RootElement);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new CheckpointException(path, $"checkpoint header is unreadable ({e.Message})", e);
        }
        if (entries.Select(a => a.Name).Distinct().Count() != entries.Count)
            throw new CheckpointException(path, "checkpoint names an array twice");
        int offset = 16 + headerLength;
        var arrays = new List<NamedArray>();
        foreach (var entry in entries)
        {
            // A shape's size is checked against the bytes left before anything is allocated.
            long length = 1;
            foreach (int dimension in entry.Shape)
            {
                if (dimension < 0) throw new CheckpointException(path, $"array {entry.Name} has a negative dimension ({dimension})");
                length = Math.Min(length * dimension, int.MaxValue);
            }
            if (offset + 4L * length > end)
                throw new CheckpointException(path, $"array {entry.Name} runs past the end of the file");
            var values = new float[(int)length];
            for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(content.AsSpan(offset + 4 * i));
            offset += 4 * values.Length;
            arrays.Add(new NamedArray(entry.Name, entry.Shape, values));
        }
        return (header, arrays);
    }

    /// <summary>The model's parameters and tracked statistics as named arrays.</summary>
    public static List<NamedArray> ModelArrays(Sequential model) =>
        model.AllParameters.Select(p => new NamedArray(p.Name, p.Shape, p.Value.ToArray())).ToList();

    /// <summary>Copies arrays into a built model, checking that names and shapes match its architecture.</summary>
    public static void Restore(string path, Sequential model, IReadOnlyList<NamedArray> arrays)
    {
        var byName = arrays.ToDictionary(a => a.Name);
        foreach (var p in model.AllParameters)
        {
            if (!byName.TryGetValue(p.Name, out var array))
                throw new CheckpointException(path, $"holds no '{p.Name}': it was saved from another architecture than '{model.Name}'");
            if (!array.Shape.SequenceEqual(p.Shape))
                throw new CheckpointException(path,
                    $"'{p.Name}' has shape ({string.Join(", ", array.Shape)}) but model '{model.Name}' needs ({string.Join(", ", p.Shape)})");
            p.Value.CopyFrom(array.Values);
        }
    }
}

/// <summary>File names inside a run folder.</summary>
public static class RunFiles
{
    public const string Checkpoint = "checkpoint.gpucnn";
    public const string Model = "model.gpucnn";
    public const string MetricsCsv = "metrics.csv";
    public const string MetricsJson = "metrics.json";
    public const string TrainingPlot = "training_metrics.png";
    public const string ConfusionPlot = "confusion_matrix.png";
    public const string Report = "classification_report.txt";
    public const string Summary = "model_summary.txt";
    public const string Command = "command.txt";
    public const string Settings = "settings.json";
    public const string TestResults = "test_results.json";
}
