using System.Text.Json.Nodes;

namespace GpuCnn.Layers;

/// <summary>
/// Builds a layer from its <see cref="Layer.Config"/>, as Keras's from_config: the inverse of
/// Config for every layer kind GpuCnn has. A config it cannot read is an ArgumentException that
/// names the layer and the problem.
/// </summary>
public static class LayerConfig
{
    public static Layer Create(JsonObject config)
    {
        string kind = Text(config, "kind");
        Layer layer = kind switch
        {
            "Conv2D" => new Conv2D(Int(config, "filters"), Int(config, "kernel_size"), ActivationNamed(config),
                Text(config, "padding") switch
                {
                    "same" => Padding.Same,
                    "valid" => Padding.Valid,
                    var other => throw Bad(config, $"padding '{other}'"),
                },
                Int(config, "stride"), Bool(config, "use_bias")),
            "Dense" => new Dense(Int(config, "units"), ActivationNamed(config)),
            "MaxPooling2D" => new MaxPool2D(Int(config, "size")),
            "BatchNormalization" => new BatchNormalization(Float(config, "momentum"), Float(config, "epsilon")),
            "Dropout" => new Dropout(Float(config, "rate")),
            "Flatten" => new Flatten(),
            "ReLU" => new ReLU(),
            "GlobalAveragePooling2D" => new GlobalAvgPool2D(),
            "ResidualBlock" => new ResidualBlock(Int(config, "filters"), Int(config, "stride")),
            _ => throw Bad(config, $"unknown layer kind '{kind}'"),
        };
        layer.Name = Text(config, "name");
        return layer;
    }

    public static string Name(Activation activation) => activation == Activation.Relu ? "relu" : "none";

    public static string Name(Padding padding) => padding == Padding.Same ? "same" : "valid";

    static Activation ActivationNamed(JsonObject config) => Text(config, "activation") switch
    {
        "relu" => Activation.Relu,
        "none" => Activation.None,
        var other => throw Bad(config, $"activation '{other}'"),
    };

    static JsonNode Value(JsonObject config, string option) =>
        config[option] ?? throw Bad(config, $"no '{option}'");

    static string Text(JsonObject config, string option) => Read(config, option, v => v.GetValue<string>());

    static int Int(JsonObject config, string option) => Read(config, option, v => v.GetValue<int>());

    static float Float(JsonObject config, string option) => Read(config, option, v => v.GetValue<float>());

    static bool Bool(JsonObject config, string option) => Read(config, option, v => v.GetValue<bool>());

    static T Read<T>(JsonObject config, string option, Func<JsonNode, T> read)
    {
        try
        {
            return read(Value(config, option));
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw Bad(config, $"'{option}' is not a {typeof(T).Name.ToLowerInvariant()}");
        }
    }

    static ArgumentException Bad(JsonObject config, string problem) =>
        new($"layer {config["name"]?.ToString() ?? "?"}: {problem}");
}
