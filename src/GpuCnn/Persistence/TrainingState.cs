using GpuCnn.Models;
using GpuCnn.Training;

namespace GpuCnn.Persistence;

/// <summary>
/// Maps a model, its optimizer, its weight average and the history to a checkpoint and back.
/// With an average, the model's arrays hold the average (what evaluate, predict and export
/// read) and the live weights travel as training state beside the optimizer's.
/// </summary>
public static class TrainingState
{
    public static void Save(string path, Sequential model, Optimizer optimizer, Hyperparameters hyperparameters,
        IReadOnlyList<EpochMetrics> history, RunRecord run, IReadOnlyList<string>? classNames = null, EmaWeights? ema = null)
    {
        var header = new CheckpointHeader(model.Name, model.InputShape, model.OutputShape[^1], hyperparameters, optimizer.Name,
            optimizer.Steps, history.ToList(), run, model.Architecture(), classNames?.ToArray());
        var state = optimizer.State.Concat(ema?.LiveState() ?? []).ToList();
        var arrays = Checkpoint.ModelArrays(model);
        arrays.AddRange(state.Select(s => new NamedArray(s.Name, s.Value.Shape, s.Value.ToArray())));
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
        Optimizer? optimizer, EmaWeights? ema = null)
    {
        if (header.Model != model.Name)
            throw new CheckpointException(path, $"checkpoint is for model '{header.Model}', not '{model.Name}'");
        Checkpoint.Restore(path, model, arrays);
        if (optimizer is null) return;
        if (header.Optimizer != optimizer.Name)
            throw new CheckpointException(path, $"checkpoint was trained with {header.Optimizer}, not {optimizer.Name}");
        var byName = arrays.ToDictionary(a => a.Name);
        if (ema is not null)
        {
            float[]? live = Values(path, byName, EmaWeights.LiveParametersName, model.ParameterBuffer.Length);
            float[]? liveStatistics = Values(path, byName, EmaWeights.LiveStatisticsName, model.StateBuffer.Length);
            if ((live is null) != (liveStatistics is null))
                throw new CheckpointException(path, $"holds one of '{EmaWeights.LiveParametersName}' and '{EmaWeights.LiveStatisticsName}' without the other");
            ema.Restore(live, liveStatistics);
        }
        // A file saved without optimizer state (ModelFile.SaveWeights) leaves the optimizer fresh.
        if (!optimizer.State.Any(s => byName.ContainsKey(s.Name))) return;
        foreach (var (name, tensor) in optimizer.State)
            tensor.CopyFrom(Values(path, byName, name, tensor.Length) ?? throw new CheckpointException(path, $"optimizer state '{name}' is missing"));
        optimizer.Restore(header.OptimizerSteps);
    }

    /// <summary>The values of array <paramref name="name"/> (null when the file has none), which must hold <paramref name="length"/> floats.</summary>
    static float[]? Values(string path, Dictionary<string, NamedArray> byName, string name, int length) =>
        !byName.TryGetValue(name, out var array) ? null
        : array.Values.Length == length ? array.Values
        : throw new CheckpointException(path, $"training state '{name}' holds {array.Values.Length} values, not {length}");
}
