using GpuCnn.Devices;
using GpuCnn.Models;

namespace GpuCnn.Persistence;

/// <summary>
/// Opens a saved model: a .gpucnn file, or a run folder (its final model, else its last
/// checkpoint). A version 2 file carries its architecture, so any model built from GpuCnn's
/// layers comes back; a version 1 file names a zoo model.
/// </summary>
public static class ModelFile
{
    public static string Resolve(string path)
    {
        if (!Directory.Exists(path)) return path;
        string model = Path.Combine(path, RunFiles.Model);
        return File.Exists(model) ? model : Path.Combine(path, RunFiles.Checkpoint);
    }

    /// <summary>The model built on the device for batches of up to maxBatch, with its saved weights and statistics.</summary>
    public static (Sequential Model, CheckpointHeader Header) Load(string path, ComputeDevice device, int maxBatch)
    {
        string file = Resolve(path);
        var (header, arrays) = Checkpoint.Load(file);
        return (Build(file, header, arrays, device, maxBatch), header);
    }

    /// <summary>
    /// Writes the model of a .gpucnn file (or run folder) to <paramref name="destination"/> without
    /// its optimizer state: Adam's moments are two thirds of a checkpoint. The result evaluates,
    /// predicts and exports as the original; training it further starts a fresh optimizer.
    /// </summary>
    public static void SaveWeights(string source, string destination)
    {
        string file = Resolve(source);
        var (header, arrays) = Checkpoint.Load(file);
        using var device = ComputeDevice.Open(DeviceKind.Cpu);
        using var model = Build(file, header, arrays, device, 1);
        Checkpoint.Save(destination, header, Checkpoint.ModelArrays(model));
    }

    /// <summary>The same from a checkpoint already read from <paramref name="file"/> (named in errors): no second read.</summary>
    public static Sequential Build(string file, CheckpointHeader header, IReadOnlyList<NamedArray> arrays, ComputeDevice device, int maxBatch)
    {
        Sequential model;
        try
        {
            model = header.Architecture is { } architecture ? Sequential.FromArchitecture(architecture) : ModelZoo.Create(header.Model);
        }
        catch (ArgumentException e)
        {
            throw new CheckpointException(file, header.Architecture is null ? $"names an unknown model '{header.Model}'" : e.Message);
        }
        try
        {
            model.Build(device, maxBatch, 0);
        }
        catch (ArgumentException e)
        {
            model.Dispose();
            throw new CheckpointException(file, $"its architecture does not build: {e.Message}");
        }
        TrainingState.Restore(file, header, arrays, model, null);
        return model;
    }
}
