using System.Text.Json.Nodes;
using GpuCnn.Devices;
using GpuCnn.Models;

namespace GpuCnn.Runs;

/// <summary>
/// What a run trains and where: a zoo model or an architecture of your own, the device kind,
/// the run folder, and the command line recorded with it. How it trains is the
/// <see cref="Training.Hyperparameters"/>; on which images, the <see cref="Data.DataSpec"/>.
/// </summary>
public sealed record RunSpec
{
    /// <summary>A zoo model's name (<see cref="ModelZoo.Names"/>), built for the data's picture shape and class count.</summary>
    public string Model { get; init; } = "seed";
    /// <summary>An architecture as <see cref="Sequential.Architecture"/> writes it; replaces <see cref="Model"/>.</summary>
    public JsonObject? Architecture { get; init; }
    public DeviceKind Device { get; init; } = DeviceKind.Auto;
    /// <summary>The run folder (null: runs/TIME-MODEL).</summary>
    public string? Folder { get; init; }
    public string Command { get; init; } = "GpuCnn library";
    /// <summary>A saved model (a .gpucnn file or a run folder) whose weights the run starts from, where names and shapes match (null: drawn from the seed).</summary>
    public string? InitFrom { get; init; }

    /// <summary>The model's name: the architecture's, else the zoo name.</summary>
    public string ModelName => Architecture?["name"]?.GetValue<string>() ?? Model;

    /// <summary>The model, unbuilt: the architecture given, or the zoo model for pictures of <paramref name="shape"/> and <paramref name="classes"/> classes.</summary>
    public Sequential Network(int[] shape, int classes) =>
        Architecture is { } architecture ? Sequential.FromArchitecture(architecture) : ModelZoo.Create(Model, shape, classes);

    /// <summary>An architecture file, checked by reading its layers' configs; one line naming the file (DataFileException) otherwise.</summary>
    public static JsonObject ReadArchitecture(string file)
    {
        try
        {
            var json = JsonNode.Parse(File.ReadAllText(file)) as JsonObject ?? throw new ArgumentException("it is not a JSON object");
            Sequential.FromArchitecture(json).Dispose();
            return json;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or ArgumentException or InvalidOperationException)
        {
            throw new Data.DataFileException(file, e is FileNotFoundException or DirectoryNotFoundException ? "file not found" : $"not a model architecture ({e.Message})");
        }
    }
}

/// <summary>How to continue a run: more epochs than it was started with, data that has moved, the device, and the command line.</summary>
public sealed record ResumeRequest(string Folder)
{
    /// <summary>Train up to this many epochs in all (above the run's own: train further); null: the run's own.</summary>
    public int? Epochs { get; init; }
    /// <summary>Where the run's data is now, when it moved (null: where the run found it).</summary>
    public string? DataDir { get; init; }
    public string? CacheDir { get; init; }
    public DeviceKind Device { get; init; } = DeviceKind.Auto;
    public string Command { get; init; } = "GpuCnn library";
}
