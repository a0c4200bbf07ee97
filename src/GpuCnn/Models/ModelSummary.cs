using System.Text;

namespace GpuCnn.Models;

/// <summary>A Keras-style summary table: layer (type), output shape, parameter count, and totals.</summary>
public static class ModelSummary
{
    public static string Render(Sequential model)
    {
        var rows = model.Layers.Select(l => (
            Layer: $"{l.Name} ({l.Kind})",
            Shape: "(None, " + string.Join(", ", l.OutputShape) + ")",
            Params: (l.ParameterCount(true) + l.ParameterCount(false)).ToString("N0"),
            Details: l.Details)).ToList();
        int w1 = Math.Max(28, rows.Max(r => r.Layer.Length) + 2);
        int w2 = Math.Max(20, rows.Max(r => r.Shape.Length) + 2);
        int w3 = Math.Max(10, rows.Max(r => r.Params.Length) + 2);
        int w4 = Math.Max(10, rows.Max(r => r.Details.Length) + 2);
        string line = new('─', w1 + w2 + w3 + w4);
        var text = new StringBuilder();
        text.AppendLine($"Model: \"{model.Name}\"");
        text.AppendLine(line);
        text.AppendLine("Layer (type)".PadRight(w1) + "Output Shape".PadRight(w2) + "Param #".PadLeft(w3 - 2).PadRight(w3) + "Details");
        text.AppendLine(new string('═', line.Length));
        foreach (var r in rows)
            text.AppendLine(r.Layer.PadRight(w1) + r.Shape.PadRight(w2) + r.Params.PadLeft(w3 - 2).PadRight(w3) + r.Details);
        text.AppendLine(line);
        // As Keras counts them: a frozen layer's weights are non-trainable.
        int trainable = model.TrainableCount - model.FrozenCount, fixedCount = model.NonTrainableCount + model.FrozenCount;
        text.AppendLine($"Total params: {trainable + fixedCount:N0} ({(trainable + fixedCount) * 4 / 1024.0:F2} KB)");
        text.AppendLine($"Trainable params: {trainable:N0}");
        text.AppendLine($"Non-trainable params: {fixedCount:N0}");
        if (model.FrozenLayers > 0)
            text.AppendLine($"Frozen: {model.Layers[0].Name} to {model.Layers[model.FrozenLayers - 1].Name} ({model.FrozenLayers} layers)");
        return text.ToString();
    }
}
