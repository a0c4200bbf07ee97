using System.Text.Json.Nodes;
using GpuCnn.Randomness;
using GpuCnn.Devices;
using GpuCnn.Layers;
using GpuCnn.Tensors;

namespace GpuCnn.Models;

/// <summary>
/// A model is a list of layers run in order. Building it fixes shapes, names the layers as Keras
/// does (conv2d, conv2d_1, ...), binds every parameter to one flat device buffer (and every
/// gradient to another) and initialises them from a seeded generator.
/// </summary>
public sealed class Sequential : IDisposable
{
    readonly List<Layer> layers;
    Tensor? parameterBuffer, gradientBuffer, stateBuffer;

    public string Name { get; }
    public IReadOnlyList<Layer> Layers => layers;
    public int[] InputShape { get; }
    public int[] OutputShape => layers[^1].OutputShape;
    public int MaxBatch { get; private set; }
    public ComputeDevice Device { get; private set; } = null!;

    public Sequential(string name, int[] inputShape, IEnumerable<Layer> layers)
    {
        Name = name;
        InputShape = inputShape;
        this.layers = layers.ToList();
    }

    /// <summary>The whole architecture: name, input shape and every layer's config. Model files store it (format version 2).</summary>
    public JsonObject Architecture() => new()
    {
        ["name"] = Name,
        ["input_shape"] = new JsonArray([.. InputShape.Select(d => (JsonNode?)d)]),
        ["layers"] = new JsonArray([.. layers.Select(l => (JsonNode?)l.Config())]),
    };

    /// <summary>An unbuilt model from an <see cref="Architecture"/>; ArgumentException names what it cannot read.</summary>
    public static Sequential FromArchitecture(JsonObject architecture)
    {
        try
        {
            string name = architecture["name"]!.GetValue<string>();
            int[] inputShape = [.. architecture["input_shape"]!.AsArray().Select(d => d!.GetValue<int>())];
            var layers = architecture["layers"]!.AsArray().Select(l => LayerConfig.Create(l!.AsObject())).ToList();
            return new Sequential(name, inputShape, layers);
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException)
        {
            throw new ArgumentException($"the model's architecture is incomplete or malformed ({e.Message})");
        }
    }

    public IEnumerable<Parameter> AllParameters => layers.SelectMany(l => l.Parameters);
    public IEnumerable<Parameter> TrainableParameters => AllParameters.Where(p => p.Trainable);

    /// <summary>All trainable parameters, back to back (8-float aligned): what the optimizer updates in one launch.</summary>
    public Tensor ParameterBuffer => parameterBuffer ?? throw new InvalidOperationException("Build the model first.");
    public Tensor GradientBuffer => gradientBuffer ?? throw new InvalidOperationException("Build the model first.");
    /// <summary>The tracked, non-trainable values (batch norm's moving averages), back to back like the parameters.</summary>
    public Tensor StateBuffer => stateBuffer ?? throw new InvalidOperationException("Build the model first.");

    public int TrainableCount => TrainableParameters.Sum(p => p.Length);
    public int NonTrainableCount => AllParameters.Where(p => !p.Trainable).Sum(p => p.Length);

    /// <summary>
    /// Fixes shapes for batches of up to maxBatch images and initialises parameters from seed. The
    /// first layer computes no input gradient unless asked (gradient checks ask).
    /// </summary>
    public Sequential Build(ComputeDevice device, int maxBatch, int seed, bool inputGradient = false)
    {
        Device = device;
        MaxBatch = maxBatch;
        var counts = new Dictionary<string, int>();
        var shape = InputShape;
        for (int i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            string baseName = KerasName(layer.Kind);
            int n = counts.GetValueOrDefault(baseName);
            counts[baseName] = n + 1;
            if (layer.Name.Length == 0) layer.Name = n == 0 ? baseName : $"{baseName}_{n}";
            layer.NeedsInputGradient = i > 0 || inputGradient;
            shape = layer.Build(shape, device, maxBatch);
        }
        BindParameters(seed);
        foreach (var layer in layers) layer.Allocate();
        return this;
    }

    static string KerasName(string kind) => kind switch
    {
        "Conv2D" => "conv2d",
        "MaxPooling2D" => "max_pooling2d",
        "BatchNormalization" => "batch_normalization",
        "GlobalAveragePooling2D" => "global_average_pooling2d",
        "ReLU" => "re_lu",
        _ => string.Concat(kind.Select((c, i) => char.IsUpper(c) && i > 0 && !char.IsUpper(kind[i - 1]) ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString())),
    };

    /// <summary>Slots start at multiples of 8 floats, so kernels may read any parameter as Float8 groups.</summary>
    static int Aligned(int offset) => (offset + 7) / 8 * 8;

    static int SlotsLength(IEnumerable<Parameter> parameters) =>
        Math.Max(8, parameters.Aggregate(0, (offset, p) => Aligned(offset + p.Length)));

    void BindParameters(int seed)
    {
        var trainable = TrainableParameters.ToList();
        var tracked = AllParameters.Where(p => !p.Trainable).ToList();
        parameterBuffer = Tensor.Zeros(Device, SlotsLength(trainable));
        gradientBuffer = Tensor.Zeros(Device, SlotsLength(trainable));
        stateBuffer = Tensor.Zeros(Device, SlotsLength(tracked));
        // Initial values are drawn layer by layer in declaration order, so a seed means the same weights everywhere.
        var random = new SeededRandom(seed);
        var initial = new float[parameterBuffer.Length];
        var state = new float[stateBuffer.Length];
        int trainableOffset = 0, trackedOffset = 0;
        foreach (var p in AllParameters)
        {
            if (p.Trainable)
            {
                p.Bind(Tensor.Over(parameterBuffer.View.SubView(trainableOffset, p.Length), p.Shape),
                    Tensor.Over(gradientBuffer.View.SubView(trainableOffset, p.Length), p.Shape));
                p.InitialValues(random).CopyTo(initial, trainableOffset);
                trainableOffset = Aligned(trainableOffset + p.Length);
            }
            else
            {
                p.Bind(Tensor.Over(stateBuffer.View.SubView(trackedOffset, p.Length), p.Shape), null);
                p.InitialValues(random).CopyTo(state, trackedOffset);
                trackedOffset = Aligned(trackedOffset + p.Length);
            }
        }
        parameterBuffer.CopyFrom(initial);
        stateBuffer.CopyFrom(state);
    }

    /// <summary>Runs every layer; returns the logits (the softmax is fused into the loss).</summary>
    public Tensor Forward(Tensor input, PassContext pass)
    {
        var x = input;
        foreach (var layer in layers) x = layer.Forward(x, pass);
        return x;
    }

    /// <summary>Back-propagates dL/dlogits through every layer, leaving gradients in GradientBuffer.</summary>
    public void Backward(Tensor logitGrad)
    {
        Tensor? grad = logitGrad;
        for (int i = layers.Count - 1; i >= 0 && grad is not null; i--) grad = layers[i].Backward(grad);
    }

    public void Dispose()
    {
        foreach (var layer in layers) layer.Dispose();
        parameterBuffer?.Dispose();
        gradientBuffer?.Dispose();
        stateBuffer?.Dispose();
    }
}
