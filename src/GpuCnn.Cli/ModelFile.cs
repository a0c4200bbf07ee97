using GpuCnn.Devices;
using GpuCnn.Models;
using GpuCnn.Persistence;

namespace GpuCnn.Cli;

/// <summary>Opens a saved model: a .gpucnn file, or a run folder (its final model, else its last checkpoint).</summary>
public static class ModelFile
{
    public static string Resolve(string path)
    {
        if (!Directory.Exists(path)) return path;
        string model = Path.Combine(path, RunFiles.Model);
        return File.Exists(model) ? model : Path.Combine(path, RunFiles.Checkpoint);
    }

    public static (Sequential Model, CheckpointHeader Header) Load(string path, ComputeDevice device, int maxBatch)
    {
        string file = Resolve(path);
        var (header, arrays) = Checkpoint.Load(file);
        Sequential model;
        try
        {
            model = ModelZoo.Create(header.Model);
        }
        catch (ArgumentException)
        {
            throw new CheckpointException(file, $"names an unknown model '{header.Model}'");
        }
        model.Build(device, maxBatch, 0);
        TrainingState.Restore(file, header, arrays, model, null);
        return (model, header);
    }
}
