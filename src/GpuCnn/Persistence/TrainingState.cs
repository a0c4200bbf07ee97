using GpuCnn.Models;
using GpuCnn.Training;

namespace GpuCnn.Persistence;

/// <summary>Maps a model, its optimizer and the history to a checkpoint and back.</summary>
public static class TrainingState
{
    public static void Save(string path, Sequential model, Optimizer optimizer, Hyperparameters hyperparameters,
        IReadOnlyList<EpochMetrics> history, RunRecord run, IReadOnlyList<string>? classNames = null)
    {
        var header = new CheckpointHeader(model.Name, model.InputShape, model.OutputShape[^1], hyperparameters, optimizer.Name,
            optimizer.Steps, history.ToList(), run, model.Architecture(), classNames?.ToArray());
        var arrays = Checkpoint.ModelArrays(model);
        arrays.AddRange(optimizer.State.Select(s => new NamedArray(s.Name, s.Value.Shape, s.Value.ToArray())));
        Checkpoint.Save(path, header, arrays);
    }

    /// <summary>Loads parameters (and, with an optimizer, its state where the file holds it) into a built model of the same architecture.</summary>
    public static CheckpointHeader Restore(string path, Sequential model, Optimizer? optimizer)
    {
        var (header, arrays) = Checkpoint.Load(path);
        Restore(path, header, arrays, model, optimizer);
        return header;
    }

    /// <summary>The same, from a checkpoint already read from <paramref name="path"/> (named in errors).</summary>
    public static void Restore(string path, CheckpointHeader header, IReadOnlyList<NamedArray> arrays, Sequential model,
        Optimizer? optimizer)
    {
        if (header.Model != model.Name)
            throw new CheckpointException(path, $"checkpoint is for model '{header.Model}', not '{model.Name}'");
        Checkpoint.Restore(path, model, arrays);
        if (optimizer is null) return;
        if (header.Optimizer != optimizer.Name)
            throw new CheckpointException(path, $"checkpoint was trained with {header.Optimizer}, not {optimizer.Name}");
        var byName = arrays.ToDictionary(a => a.Name);
        // A file saved without optimizer state (ModelFile.SaveWeights) leaves the optimizer fresh.
        if (!optimizer.State.Any(s => byName.ContainsKey(s.Name))) return;
        foreach (var (name, tensor) in optimizer.State)
        {
            if (!byName.TryGetValue(name, out var array) || array.Values.Length != tensor.Length)
                throw new CheckpointException(path, $"optimizer state '{name}' is missing or has the wrong size");
            tensor.CopyFrom(array.Values);
        }
        optimizer.Restore(header.OptimizerSteps);
    }
}
