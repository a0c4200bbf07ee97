namespace GpuCnn.Models;

/// <summary>What <see cref="WeightLoading.LoadWeightsFrom"/> did with one layer.</summary>
public enum LayerLoadOutcome
{
    /// <summary>Its weights (and batch norm's moving statistics) come from the source's layer of the same name.</summary>
    Loaded,
    /// <summary>The source has no layer of its name: it keeps fresh initial weights.</summary>
    New,
    /// <summary>The source's layer of its name holds other shapes (or, for the head, other classes): fresh initial weights.</summary>
    Reinitialised,
}

/// <summary>One layer's line of a weight-loading report, e.g. "dense_1: reinitialised (5 classes here, 10 in the source)".</summary>
public sealed record LayerLoad(string Layer, LayerLoadOutcome Outcome, string Reason = "")
{
    public override string ToString() => Outcome switch
    {
        LayerLoadOutcome.Loaded => $"{Layer}: loaded",
        LayerLoadOutcome.New => $"{Layer}: new ({Reason})",
        _ => $"{Layer}: reinitialised ({Reason})",
    };
}

/// <summary>
/// Fine-tuning's start: the weights of one built model copied into another, layer by layer where
/// the names and shapes match, as Keras's load_weights(by_name=True, skip_mismatch=True) and
/// PyTorch's load_state_dict(strict=False) after dropping the mismatched keys.
/// </summary>
public static class WeightLoading
{
    /// <summary>
    /// Copies each of <paramref name="target"/>'s layers that has weights from the layer of the
    /// same name in <paramref name="source"/> when that layer holds parameters of the same names
    /// and shapes (trainable ones and batch norm's moving statistics alike). Every other such layer
    /// gets the initial weights <paramref name="seed"/> gives it (those a fresh build draws), and
    /// so does the head, the last layer with weights, when <paramref name="newHead"/> gives a
    /// reason (the classes differ). Returns one line per layer with weights, in order.
    /// </summary>
    public static IReadOnlyList<LayerLoad> LoadWeightsFrom(Sequential target, Sequential source, int seed, string? newHead = null)
    {
        var theirs = source.AllParameters.ToDictionary(p => p.Name);
        var sourceLayers = source.Layers.ToDictionary(l => l.Name);
        var weighted = target.Layers.Where(l => l.Parameters.Count > 0).ToList();
        var report = new List<LayerLoad>();
        foreach (var layer in weighted)
        {
            var mismatch = layer.Parameters.FirstOrDefault(p => !theirs.TryGetValue(p.Name, out var q) || !q.Shape.SequenceEqual(p.Shape));
            report.Add(
                !sourceLayers.TryGetValue(layer.Name, out var match) ? new LayerLoad(layer.Name, LayerLoadOutcome.New, "the source has no layer of that name")
                : layer == weighted[^1] && newHead is not null ? new LayerLoad(layer.Name, LayerLoadOutcome.Reinitialised, newHead)
                : mismatch is not null ? new LayerLoad(layer.Name, LayerLoadOutcome.Reinitialised,
                    $"shape mismatch: {mismatch.Name} is {Shape(mismatch.Shape)} here, {(theirs.TryGetValue(mismatch.Name, out var q) ? Shape(q.Shape) : "absent")} in the source")
                : match.Parameters.Count != layer.Parameters.Count ? new LayerLoad(layer.Name, LayerLoadOutcome.Reinitialised,
                    $"shape mismatch: the source's {layer.Name} holds {match.Parameters.Count} arrays, this one {layer.Parameters.Count}")
                : new LayerLoad(layer.Name, LayerLoadOutcome.Loaded));
        }
        foreach (var layer in weighted.Where((_, i) => report[i].Outcome == LayerLoadOutcome.Loaded))
            foreach (var p in layer.Parameters) p.Value.CopyFrom(theirs[p.Name].Value.ToArray());
        target.Reinitialise(weighted.Where((_, i) => report[i].Outcome != LayerLoadOutcome.Loaded), seed);
        return report;
    }

    static string Shape(int[] shape) => "(" + string.Join(", ", shape) + ")";
}
