using System.Text.Json.Nodes;
using GpuCnn.Data;
using GpuCnn.Training;

namespace GpuCnn.Persistence;

/// <summary>
/// How a checkpoint came to be: the command line, the number of data-parallel ranks, the data it
/// trained on, and the model file whose weights it started from (null: drawn from the seed).
/// </summary>
public sealed record RunRecord(string Command, int Ranks = 1, DataSpec? Data = null, string? InitFrom = null)
{
    /// <summary>A model saved from code, not by a run.</summary>
    public static readonly RunRecord Library = new("GpuCnn library");
}

/// <summary>What a checkpoint holds besides the arrays: the model, how it was trained, where it stands, and how the run began.</summary>
public sealed record CheckpointHeader(
    string Model,
    int[] InputShape,
    int Classes,
    Hyperparameters Hyperparameters,
    string Optimizer,
    long OptimizerSteps,
    IReadOnlyList<EpochMetrics> History,
    RunRecord Run,
    JsonObject? Architecture = null,
    string[]? ClassNames = null)
{
    /// <summary>The names of the classes the model was trained on; Fashion-MNIST's for files that do not say.</summary>
    public IReadOnlyList<string> TrainedClassNames => ClassNames ?? FashionMnist.ClassNames;
}
