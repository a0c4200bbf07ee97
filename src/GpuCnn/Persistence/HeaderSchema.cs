using System.Text.Json;
using System.Text.Json.Nodes;
using GpuCnn.Data;
using GpuCnn.Training;

namespace GpuCnn.Persistence;

/// <summary>
/// The checkpoint header of format version 3, written and read field by field:
/// <code>
/// { "model":           { "name", "input_shape", "classes", "class_names" (or null), "architecture" (or null) },
///   "hyperparameters": { see SettingsSchema },
///   "optimizer":       { "name", "steps" },
///   "history":         [ { "epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds", "images_per_second", "learning_rate" } ],
///   "run":             { "command", "ranks", "data" (or null), "init_from" (or null; absent in older files) },
///   "arrays":          [ { "name", "shape" } ]   in payload order }
/// </code>
/// Versions 1 and 2 wrote a serialised record instead; <see cref="LegacyHeader"/> reads those.
/// </summary>
static class HeaderSchema
{
    public static byte[] Write(CheckpointHeader h, IEnumerable<(string Name, int[] Shape)> arrays)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteStartObject("model");
            w.WriteString("name", h.Model);
            WriteInts(w, "input_shape", h.InputShape);
            w.WriteNumber("classes", h.Classes);
            w.WritePropertyName("class_names");
            if (h.ClassNames is { } names)
            {
                w.WriteStartArray();
                foreach (var name in names) w.WriteStringValue(name);
                w.WriteEndArray();
            }
            else w.WriteNullValue();
            w.WritePropertyName("architecture");
            if (h.Architecture is { } architecture) architecture.WriteTo(w);
            else w.WriteNullValue();
            w.WriteEndObject();

            w.WritePropertyName("hyperparameters");
            SettingsSchema.Write(w, h.Hyperparameters);
            w.WriteStartObject("optimizer");
            w.WriteString("name", h.Optimizer);
            w.WriteNumber("steps", h.OptimizerSteps);
            w.WriteEndObject();
            w.WritePropertyName("history");
            SettingsSchema.Write(w, h.History);
            w.WriteStartObject("run");
            w.WriteString("command", h.Run.Command);
            w.WriteNumber("ranks", h.Run.Ranks);
            w.WritePropertyName("data");
            if (h.Run.Data is { } data) SettingsSchema.Write(w, data);
            else w.WriteNullValue();
            w.WriteString("init_from", h.Run.InitFrom);
            w.WriteEndObject();

            w.WriteStartArray("arrays");
            foreach (var (name, shape) in arrays)
            {
                w.WriteStartObject();
                w.WriteString("name", name);
                WriteInts(w, "shape", shape);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return stream.ToArray();
    }

    static void WriteInts(Utf8JsonWriter w, string name, IEnumerable<int> values)
    {
        w.WriteStartArray(name);
        foreach (int v in values) w.WriteNumberValue(v);
        w.WriteEndArray();
    }

    public static (CheckpointHeader Header, List<(string Name, int[] Shape)> Arrays) Read(JsonElement root)
    {
        var model = root.Get("model", JsonValueKind.Object);
        var optimizer = root.Get("optimizer", JsonValueKind.Object);
        var run = root.Get("run", JsonValueKind.Object);
        string[]? classNames = model.Optional("class_names") is { } names
            ? [.. names.EnumerateArray().Select(n => n.ValueKind == JsonValueKind.String ? n.GetString()! : throw new JsonException("'class_names' holds a value that is not a string"))]
            : null;
        JsonObject? architecture = model.Optional("architecture") is { } a
            ? JsonNode.Parse(a.GetRawText()) as JsonObject ?? throw new JsonException("'architecture' is not an object")
            : null;
        DataSpec? data = run.Optional("data") is { } d ? SettingsSchema.ReadDataSpec(d) : null;
        var header = new CheckpointHeader(
            model.String("name"), model.Ints("input_shape"), model.Int("classes"),
            SettingsSchema.ReadHyperparameters(root.Get("hyperparameters", JsonValueKind.Object)),
            optimizer.String("name"), optimizer.Long("steps"),
            SettingsSchema.ReadHistory(root.Get("history", JsonValueKind.Array)),
            new RunRecord(run.String("command"), run.Int("ranks"), data, run.StringOrNull("init_from")),
            architecture, classNames);
        var arrays = root.Get("arrays", JsonValueKind.Array).EnumerateArray().Select(e => (e.String("name"), e.Ints("shape"))).ToList();
        return (header, arrays);
    }
}
