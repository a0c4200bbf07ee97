using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace GpuCnn.Layers;

/// <summary>
/// Builds a layer from its <see cref="Layer.Config"/>, as Keras's from_config: the inverse of
/// Config for every layer kind GpuCnn has. A config it cannot read (an option missing, of the
/// wrong JSON type or outside <see cref="LayerLimits"/>, an unknown kind) is an
/// ArgumentException of one line that names the layer, the option, what is accepted and what
/// was given.
/// </summary>
public static class LayerConfig
{
    public static readonly IReadOnlyList<string> Kinds =
        ["Conv2D", "Dense", "MaxPooling2D", "BatchNormalization", "Dropout", "Flatten", "ReLU", "GlobalAveragePooling2D", "ResidualBlock"];

    /// <param name="defaultName">The name the model gives the layer when its config names none (Keras's conv2d_1, ...), used in messages and set on the layer by the model.</param>
    public static Layer Create(JsonObject config, string? defaultName = null)
    {
        string explicitName = ExplicitName(config, defaultName);
        string owner = $"layer {(explicitName.Length > 0 ? explicitName : defaultName ?? "?")}";
        var read = new Reader(config, owner);
        string kind = read.Text("kind", "one of " + string.Join(", ", Kinds));
        Layer layer = kind switch
        {
            "Conv2D" => new Conv2D(read.Whole(LayerLimits.Filters), read.Whole(LayerLimits.KernelSize), read.ActivationOption(),
                read.Choice("padding", ["same", "valid"]) == "same" ? Padding.Same : Padding.Valid,
                read.Whole(LayerLimits.Stride), read.Flag("use_bias")),
            "Dense" => new Dense(read.Whole(LayerLimits.Units), read.ActivationOption()),
            "MaxPooling2D" => new MaxPool2D(read.Whole(LayerLimits.PoolSize)),
            "BatchNormalization" => new BatchNormalization(read.Real(LayerLimits.Momentum), read.Real(LayerLimits.Epsilon)),
            "Dropout" => new Dropout(read.Real(LayerLimits.DropoutRate)),
            "Flatten" => new Flatten(),
            "ReLU" => new ReLU(),
            "GlobalAveragePooling2D" => new GlobalAvgPool2D(),
            "ResidualBlock" => new ResidualBlock(read.Whole(LayerLimits.Filters), read.Whole(LayerLimits.Stride)),
            _ => throw new ArgumentException($"{owner}: unknown layer kind '{LayerLimits.Escaped(kind)}'; the kinds are {string.Join(", ", Kinds)}."),
        };
        layer.Name = explicitName;
        return layer;
    }

    /// <summary>
    /// The config's own name: "" when it gives none (missing, null or empty: the model names the
    /// layer). Refused when it is not text or breaks <see cref="LayerLimits.NameProblem"/>.
    /// </summary>
    public static string ExplicitName(JsonObject config, string? defaultName = null)
    {
        var node = config["name"];
        if (node is null) return "";
        if (node.GetValueKind() != JsonValueKind.String)
            throw new ArgumentException($"layer {defaultName ?? "?"}: name must be text, got {Shown(node)}.");
        string name = node.GetValue<string>();
        if (LayerLimits.NameProblem(name) is { } problem)
            throw new ArgumentException($"layer {defaultName ?? "?"}: {problem}.");
        return name;
    }

    public static string Name(Activation activation) => activation == Activation.Relu ? "relu" : "none";

    public static string Name(Padding padding) => padding == Padding.Same ? "same" : "valid";

    /// <summary>A JSON value as messages show it: compact JSON, cut to 40 characters, so always one line.</summary>
    public static string Shown(JsonNode? node)
    {
        string text = node?.ToJsonString() ?? "null";
        return text.Length > 40 ? text[..40] + "..." : text;
    }

    /// <summary>Reads one config's options, each message starting with the layer it names.</summary>
    readonly struct Reader(JsonObject config, string owner)
    {
        /// <summary>The option's value; "is missing" when absent (a JSON null is a value of the wrong type).</summary>
        JsonNode? Value(string option, string accepted) =>
            config.ContainsKey(option) ? config[option] : throw new ArgumentException($"{owner}: {option} is missing ({accepted}).");

        public string Text(string option, string accepted)
        {
            var node = Value(option, accepted);
            if (node is null || node.GetValueKind() != JsonValueKind.String)
                throw new ArgumentException($"{owner}: {option} must be {accepted}, got {Shown(node)}.");
            return node.GetValue<string>();
        }

        public string Choice(string option, string[] choices)
        {
            string accepted = string.Join(" or ", choices.Select(c => $"\"{c}\""));
            string value = Text(option, accepted);
            return choices.Contains(value) ? value
                : throw new ArgumentException($"{owner}: {option} must be {accepted}, got {LayerLimits.Quoted(value)}.");
        }

        public Activation ActivationOption() => Choice("activation", ["relu", "none"]) == "relu" ? Activation.Relu : Activation.None;

        public bool Flag(string option)
        {
            var node = Value(option, "true or false");
            return node?.GetValueKind() switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new ArgumentException($"{owner}: {option} must be true or false, got {Shown(node)}."),
            };
        }

        public int Whole(WholeRange range)
        {
            var node = Value(range.Option, $"a whole number {range.Text}");
            double? number = Number(node);
            if (number is not { } value || Math.Floor(value) != value)
                throw new ArgumentException($"{owner}: {range.Option} must be a whole number {range.Text}, got {Shown(node)}.");
            if (value < range.Min || value > range.Max) throw range.Refused(owner, Shown(node));
            return (int)value;
        }

        /// <summary>Read as float the way the JSON reader does (one rounding, from the decimal text), so saved models give the same bits.</summary>
        public float Real(RealRange range)
        {
            var node = Value(range.Option, $"a number {range.Text}");
            if (Number(node) is null)
                throw new ArgumentException($"{owner}: {range.Option} must be a number {range.Text}, got {Shown(node)}.");
            float value = float.Parse(node!.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
            if (!range.Contains(value)) throw range.Refused(owner, Shown(node));
            return value;
        }

        /// <summary>A JSON number's value, or null for any other kind (strings that look like numbers included).</summary>
        static double? Number(JsonNode? node) =>
            node is not null && node.GetValueKind() == JsonValueKind.Number
            && double.TryParse(node.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
            && double.IsFinite(value)
                ? value
                : null;
    }
}
