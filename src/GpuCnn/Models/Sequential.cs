using System.Text.Json;
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

    /// <summary>
    /// An unbuilt model from an <see cref="Architecture"/> written as JSON text; ArgumentException,
    /// one line, when the text is not JSON or the architecture cannot be read (see the other overload).
    /// </summary>
    public static Sequential FromArchitecture(string json)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"the architecture is not JSON: {OneLine(e.Message)}");
        }
        return node is JsonObject architecture ? FromArchitecture(architecture)
            : throw new ArgumentException($"the architecture must be a JSON object with name, input_shape and layers, got {LayerConfig.Shown(node)}.");
    }

    /// <summary>
    /// An unbuilt model from an <see cref="Architecture"/>, checked before anything is allocated:
    /// each layer's options (types and <see cref="LayerLimits"/>), at least one layer, unique layer
    /// names (given or generated), and every layer's shapes and buffer sizes (a batch of one).
    /// ArgumentException, one line naming the layer and the option, otherwise.
    /// </summary>
    public static Sequential FromArchitecture(JsonObject architecture)
    {
        try
        {
            var nameNode = architecture["name"];
            if (nameNode?.GetValueKind() != JsonValueKind.String)
                throw new ArgumentException($"the architecture's name must be text, got {Shown(architecture, "name")}.");
            string name = nameNode.GetValue<string>();
            string owner = $"model '{LayerLimits.Escaped(name)}'";
            if (name.Length > LayerLimits.MaxNameLength || name.Any(char.IsControl))
                throw new ArgumentException($"{owner}: the name must be at most {LayerLimits.MaxNameLength} characters with no control characters.");

            if (architecture["input_shape"] is not JsonArray shapeNode || shapeNode.Count is < 1 or > 3)
                throw new ArgumentException($"{owner}: input_shape must be a list of 1 to 3 whole numbers (height, width, channels), got {Shown(architecture, "input_shape")}.");
            var range = LayerLimits.InputDimension;
            int[] inputShape = [.. shapeNode.Select(d => d?.GetValueKind() == JsonValueKind.Number && double.TryParse(d.ToJsonString(),
                    System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double v)
                    && v == Math.Floor(v) && v >= range.Min && v <= range.Max
                ? (int)v
                : throw range.Refused(owner, LayerConfig.Shown(d)))];

            if (architecture["layers"] is not JsonArray layerNodes)
                throw new ArgumentException($"{owner}: layers must be a list of layer objects, got {Shown(architecture, "layers")}.");
            if (layerNodes.Count == 0) throw new ArgumentException($"{owner}: layers is empty; a model needs at least one layer.");
            if (layerNodes.Count > LayerLimits.MaxLayers)
                throw new ArgumentException($"{owner}: has {layerNodes.Count} layers; at most {LayerLimits.MaxLayers} are supported.");
            var counts = new Dictionary<string, int>();
            var layers = new List<Layer>();
            for (int i = 0; i < layerNodes.Count; i++)
            {
                if (layerNodes[i] is not JsonObject config)
                    throw new ArgumentException($"{owner}: layer #{i + 1} must be a JSON object with kind and options, got {LayerConfig.Shown(layerNodes[i])}.");
                // The name Build would give it (counting every layer of the kind before it), so messages name it as the model will.
                string? kind = config["kind"] is JsonValue k && k.GetValueKind() == JsonValueKind.String ? k.GetValue<string>() : null;
                string defaultName = kind is not null && LayerConfig.Kinds.Contains(kind) ? NextName(kind, counts) : $"#{i + 1}";
                layers.Add(LayerConfig.Create(config, defaultName));
            }
            var model = new Sequential(name, inputShape, layers);
            model.Plan(1);
            return model;
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or JsonException or KeyNotFoundException)
        {
            // A JSON object with a repeated key, or a value of a type its reader did not expect.
            throw new ArgumentException($"the model's architecture is malformed: {OneLine(e.Message)}");
        }
    }

    static string Shown(JsonObject config, string option) => config.ContainsKey(option) ? LayerConfig.Shown(config[option]) : "nothing";

    static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries));

    /// <summary>Floats of optimizer state per trainable parameter, counted as Adam's two moments (SGD keeps one).</summary>
    public const int OptimizerFloats = 2;

    /// <summary>Bytes of 4-byte elements, saturating.</summary>
    internal static long Bytes(long elements) => elements > long.MaxValue / 4 ? long.MaxValue : elements * 4;

    /// <summary>How messages name this model.</summary>
    string Owner => $"model '{LayerLimits.Escaped(Name)}'";

    /// <summary>
    /// Checks the whole model before anything is allocated and works out what it needs for
    /// batches of batchSize: at least one layer (at most <see cref="LayerLimits.MaxLayers"/>), an
    /// input of 1 to 3 dimensions, layer names (generated ones set here, as Build sets them) that
    /// are valid and unique, every layer's options and shapes, and every buffer, parameter and
    /// workspace within int32 elements. The workspace follows <paramref name="launch"/> (the
    /// device's plan; by default the GPU plan, whose split reductions need the most).
    /// ArgumentException, one line naming the layer, otherwise.
    /// </summary>
    public ModelBudget Plan(int batchSize, LaunchPlan? launch = null)
    {
        if (batchSize < 1) throw new ArgumentException($"{Owner}: the batch size must be at least 1, got {batchSize}.");
        if (layers.Count == 0) throw new ArgumentException($"{Owner}: has no layers; a model needs at least one.");
        if (layers.Count > LayerLimits.MaxLayers)
            throw new ArgumentException($"{Owner}: has {layers.Count} layers; at most {LayerLimits.MaxLayers} are supported.");
        if (InputShape.Length is < 1 or > 3)
            throw new ArgumentException($"{Owner}: input_shape must have 1 to 3 dimensions (height, width, channels), got {InputShape.Length}.");
        foreach (int d in InputShape) LayerLimits.InputDimension.Check(Owner, d);
        NameLayers();
        launch ??= LaunchPlan.ForGpu();

        var buffers = new List<PlannedBuffer>();
        void Add(PlannedBuffer buffer)
        {
            if (buffer.Elements > int.MaxValue)
                throw new ArgumentException($"{(buffer.Layer.Length > 0 ? $"layer {buffer.Layer}" : Owner)}: its {buffer.What} {(buffer.Use == BufferUse.Workspace ? "workspace " : "")}for batches of {batchSize} " +
                                            $"would hold {(buffer.Elements == long.MaxValue ? "more than 9e18" : buffer.Elements)} elements, but a device buffer holds at most {int.MaxValue}; " +
                                            "use fewer filters or units, a smaller input or a smaller batch.");
            buffers.Add(buffer);
        }
        Add(new PlannedBuffer("", "input batch", BufferUse.Buffer, LayerPlan.Product([batchSize, .. InputShape.Select(d => (long)d)])));
        var shape = InputShape;
        var shapes = new List<int[]>();
        foreach (var layer in layers)
        {
            var plan = layer.Plan(shape, batchSize, launch);
            foreach (var buffer in plan.Buffers) Add(buffer);
            shape = plan.OutputShape;
            shapes.Add(shape);
        }
        long outputs = shape.Aggregate(1L, (a, d) => a * d);
        // The loss: dL/dlogits, a row loss and a prediction per image; the labels.
        Add(new PlannedBuffer(layers[^1].Name, "loss gradient", BufferUse.Buffer, batchSize * outputs));
        long lossRows = 3L * batchSize;

        long Slots(BufferUse use) => buffers.Where(b => b.Use == use).Sum(b => (b.Elements + 7) / 8 * 8);
        long trainable = buffers.Where(b => b.Use == BufferUse.Parameter).Sum(b => b.Elements);
        long tracked = buffers.Where(b => b.Use == BufferUse.Tracked).Sum(b => b.Elements);
        long trainableSlots = Slots(BufferUse.Parameter), trackedSlots = Slots(BufferUse.Tracked);
        if (trainableSlots > int.MaxValue)
            throw new ArgumentException($"{Owner}: has {trainable} trainable parameters, but they share one device buffer of at most {int.MaxValue} elements; use fewer filters or units.");
        long activations = buffers.Where(b => b.Use == BufferUse.Buffer).Sum(b => b.Elements) + lossRows;
        long workspace = buffers.Where(b => b.Use == BufferUse.Workspace).GroupBy(b => b.What).Sum(g => g.Max(b => b.Elements));
        return new ModelBudget(batchSize, shapes, trainable, tracked,
            Bytes((2 + OptimizerFloats) * trainableSlots + trackedSlots), Bytes(activations), Bytes(workspace), buffers);
    }

    /// <summary>Bytes of device memory the model needs for batches of batchSize (<see cref="Plan"/>'s total); nothing is allocated.</summary>
    public long EstimateBytes(int batchSize, LaunchPlan? launch = null) => Plan(batchSize, launch).TotalBytes;

    /// <summary>
    /// <see cref="Plan"/>, and the estimate within <paramref name="deviceMemoryBytes"/> (e.g.
    /// <see cref="ComputeDevice.AvailableMemoryBytes"/>). ArgumentException, one line, otherwise.
    /// </summary>
    public ModelBudget Validate(int batchSize, long deviceMemoryBytes, LaunchPlan? launch = null) =>
        CheckMemory(Plan(batchSize, launch), deviceMemoryBytes);

    /// <summary>The same, and the last layer gives one output per class: (classes).</summary>
    public ModelBudget Validate(int classes, int batchSize, long deviceMemoryBytes, LaunchPlan? launch = null)
    {
        var budget = Plan(batchSize, launch);
        if (budget.OutputShape.Length != 1 || budget.OutputShape[0] != classes)
            throw new ArgumentException($"{Owner}: its last layer, {layers[^1].Name}, gives ({string.Join(", ", budget.OutputShape)}) outputs per image " +
                                        $"but the data has {classes} classes; end with Dense({classes}).");
        return CheckMemory(budget, deviceMemoryBytes);
    }

    ModelBudget CheckMemory(ModelBudget budget, long deviceMemoryBytes)
    {
        if (budget.TotalBytes <= deviceMemoryBytes) return budget;
        static string Size(long bytes) => bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):F1} GiB" : $"{bytes / (double)(1L << 20):F1} MiB";
        var (layer, bytes) = budget.Largest;
        throw new ArgumentException($"{Owner}: needs about {Size(budget.TotalBytes)} for batches of {budget.BatchSize} " +
                                    $"(parameters {Size(budget.ParameterBytes)}, activations {Size(budget.ActivationBytes)}, workspace {Size(budget.WorkspaceBytes)}; " +
                                    $"the largest layer, {layer}, {Size(bytes)}) but the device has {Size(deviceMemoryBytes)}; use a smaller batch, fewer filters or units.");
    }

    /// <summary>
    /// Names unnamed layers as Keras does (conv2d, conv2d_1, ...: the n-th layer of a kind, counting
    /// named ones) and refuses names that are invalid or given twice.
    /// </summary>
    void NameLayers()
    {
        var counts = new Dictionary<string, int>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            string generated = NextName(layer.Kind, counts);
            if (layer.Name.Length == 0) layer.Name = generated;
            if (LayerLimits.NameProblem(layer.Name) is { } problem)
                throw new ArgumentException($"{Owner}: layer #{i + 1} ({layer.Kind}): {problem}.");
            if (seen.TryGetValue(layer.Name, out int first))
                throw new ArgumentException($"layer {layer.Name}: the name is given to layers #{first + 1} and #{i + 1}; layer names must be unique.");
            seen[layer.Name] = i;
        }
    }

    static string NextName(string kind, Dictionary<string, int> counts)
    {
        string baseName = KerasName(kind);
        int n = counts.GetValueOrDefault(baseName);
        counts[baseName] = n + 1;
        return n == 0 ? baseName : $"{baseName}_{n}";
    }

    public IEnumerable<Parameter> AllParameters => layers.SelectMany(l => l.Parameters);
    public IEnumerable<Parameter> TrainableParameters => AllParameters.Where(p => p.Trainable);

    /// <summary>All trainable parameters, back to back (8-float aligned): what the optimizer updates in one launch.</summary>
    public Tensor ParameterBuffer => parameterBuffer ?? throw new InvalidOperationException("Build the model first.");
    public Tensor GradientBuffer => gradientBuffer ?? throw new InvalidOperationException("Build the model first.");
    /// <summary>The tracked, non-trainable values (batch norm's moving averages), back to back like the parameters.</summary>
    public Tensor StateBuffer => stateBuffer ?? throw new InvalidOperationException("Build the model first.");

    public int TrainableCount => TrainableParameters.Sum(p => p.Length);

    /// <summary>How many layers, from the first, <see cref="Freeze"/> keeps fixed (0: none).</summary>
    public int FrozenLayers { get; private set; }

    /// <summary>The trainable parameters of the frozen layers, which the optimizer leaves alone.</summary>
    public int FrozenCount => layers.Take(FrozenLayers).Sum(l => l.ParameterCount(true));

    /// <summary>
    /// Keeps the layers up to and including <paramref name="upToLayer"/> fixed, as Keras's
    /// trainable = False on each (null: none). A frozen layer's weights are left out of the
    /// optimizer's part of the buffers (<see cref="TrainedBuffers"/>), so an optimizer made after
    /// this keeps no state for them; no backward pass runs through them; and they run as at
    /// inference while training too: batch norm normalises with its moving statistics and leaves
    /// them as they are, dropout passes its input through. Works built or not (names are set as
    /// <see cref="Plan"/> sets them). ArgumentException, listing the layers, for a name the model
    /// does not have or one that would leave nothing to train.
    /// </summary>
    public void Freeze(string? upToLayer)
    {
        if (upToLayer is null)
        {
            FrozenLayers = 0;
            return;
        }
        // Planning names the layers and lists their trainable buffers (a residual block's inner ones named "block/inner").
        var trained = Plan(1).Buffers.Where(b => b.Use == BufferUse.Parameter).Select(b => b.Layer.Split('/')[0]).ToHashSet();
        int index = layers.FindIndex(l => l.Name == upToLayer);
        if (index < 0)
            throw new ArgumentException($"{Owner} has no layer '{LayerLimits.Escaped(upToLayer)}' to freeze up to; its layers: {string.Join(", ", layers.Select(l => l.Name))}.");
        if (!layers.Skip(index + 1).Any(l => trained.Contains(l.Name)))
            throw new ArgumentException($"{Owner}: freezing up to {upToLayer} leaves no weights to train; freeze up to an earlier layer: " +
                                        $"{string.Join(", ", layers.Take(layers.FindLastIndex(l => trained.Contains(l.Name))).Select(l => l.Name))}.");
        FrozenLayers = index + 1;
    }

    /// <summary>Where the optimizer's part of ParameterBuffer begins: the frozen layers' slots come first, as their layers do.</summary>
    int FrozenSlots => layers.Take(FrozenLayers).SelectMany(l => l.Parameters).Where(p => p.Trainable).Aggregate(0, (offset, p) => Aligned(offset + p.Length));

    /// <summary>
    /// The part of ParameterBuffer and of GradientBuffer that training updates: all of them, less
    /// the frozen layers' slots at their start. Views (nothing to dispose); an optimizer is made over them.
    /// </summary>
    public (Tensor Parameters, Tensor Gradients) TrainedBuffers()
    {
        int first = FrozenSlots, length = ParameterBuffer.Length - first;
        return (Tensor.Over(ParameterBuffer.View.SubView(first, length), length), Tensor.Over(GradientBuffer.View.SubView(first, length), length));
    }
    public int NonTrainableCount => AllParameters.Where(p => !p.Trainable).Sum(p => p.Length);

    /// <summary>
    /// Fixes shapes for batches of up to maxBatch images and initialises parameters from seed. The
    /// first layer computes no input gradient unless asked (gradient checks ask). Validated first
    /// (<see cref="Validate(int, long, LaunchPlan?)"/> against the device's memory), so nothing is
    /// allocated for a model that cannot run.
    /// </summary>
    public Sequential Build(ComputeDevice device, int maxBatch, int seed, bool inputGradient = false)
    {
        // Everything is checked (names given, shapes, sizes, memory) before the first allocation.
        Validate(maxBatch, device.AvailableMemoryBytes, device.Plan);
        Device = device;
        MaxBatch = maxBatch;
        var shape = InputShape;
        for (int i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            layer.NeedsInputGradient = i > 0 || inputGradient;
            shape = layer.Build(shape, device, maxBatch);
        }
        LayerFusion.Pair(layers);
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

    /// <summary>
    /// 1 for each element of the trained part of the parameter buffer (<see cref="TrainedBuffers"/>)
    /// that <paramref name="decays"/> picks, 0 elsewhere (other parameters and the alignment gaps):
    /// an optimizer's weight-decay mask.
    /// </summary>
    public float[] ParameterMask(Func<Parameter, bool> decays)
    {
        var mask = new float[ParameterBuffer.Length];
        int offset = 0;
        foreach (var p in TrainableParameters)
        {
            if (decays(p)) Array.Fill(mask, 1f, offset, p.Length);
            offset = Aligned(offset + p.Length);
        }
        return mask[FrozenSlots..];
    }

    static int SlotsLength(IEnumerable<Parameter> parameters) =>
        Math.Max(8, parameters.Aggregate(0, (offset, p) => Aligned(offset + p.Length)));

    void BindParameters(int seed)
    {
        var trainable = TrainableParameters.ToList();
        var tracked = AllParameters.Where(p => !p.Trainable).ToList();
        parameterBuffer = Tensor.Zeros(Device, SlotsLength(trainable));
        gradientBuffer = Tensor.Zeros(Device, SlotsLength(trainable));
        stateBuffer = Tensor.Zeros(Device, SlotsLength(tracked));
        var initial = new float[parameterBuffer.Length];
        var state = new float[stateBuffer.Length];
        int trainableOffset = 0, trackedOffset = 0;
        foreach (var (p, values) in InitialValues(seed))
        {
            if (p.Trainable)
            {
                p.Bind(Tensor.Over(parameterBuffer.View.SubView(trainableOffset, p.Length), p.Shape),
                    Tensor.Over(gradientBuffer.View.SubView(trainableOffset, p.Length), p.Shape));
                values.CopyTo(initial, trainableOffset);
                trainableOffset = Aligned(trainableOffset + p.Length);
            }
            else
            {
                p.Bind(Tensor.Over(stateBuffer.View.SubView(trackedOffset, p.Length), p.Shape), null);
                values.CopyTo(state, trackedOffset);
                trackedOffset = Aligned(trackedOffset + p.Length);
            }
        }
        parameterBuffer.CopyFrom(initial);
        stateBuffer.CopyFrom(state);
    }

    /// <summary>Every parameter with its initial values from <paramref name="seed"/>: drawn layer by layer in declaration order, so a seed means the same weights everywhere.</summary>
    IEnumerable<(Parameter Parameter, float[] Values)> InitialValues(int seed)
    {
        var random = new SeededRandom(seed);
        foreach (var p in AllParameters) yield return (p, p.InitialValues(random));
    }

    /// <summary>Sets the weights (and statistics) of <paramref name="chosen"/> layers of a built model back to those <see cref="Build"/> drew for them from <paramref name="seed"/>.</summary>
    public void Reinitialise(IEnumerable<Layer> chosen, int seed)
    {
        var parameters = chosen.SelectMany(l => l.Parameters).ToHashSet();
        foreach (var (p, values) in InitialValues(seed))
            if (parameters.Contains(p)) p.Value.CopyFrom(values);
    }

    /// <summary>Runs every layer (the frozen ones as at inference); returns the logits (the softmax is fused into the loss).</summary>
    public Tensor Forward(Tensor input, PassContext pass)
    {
        var frozen = pass with { Training = false, RecalibrationWeight = 0f };
        var x = input;
        for (int i = 0; i < layers.Count; i++)
        {
            // A convolution and the max pooling that takes it into its own pass (LayerFusion);
            // neither reads the pass (only dropout and batch norm do), so a frozen one runs the same.
            if (i + 1 < layers.Count && layers[i + 1] is MaxPool2D pool && pool.PoolsConvolution == layers[i])
            {
                x = pool.ForwardMaxPool(x);
                i++;
            }
            else
                x = layers[i].Forward(x, i < FrozenLayers ? frozen : pass);
        }
        return x;
    }

    /// <summary>
    /// Back-propagates dL/dlogits, leaving gradients in GradientBuffer: through every layer, or,
    /// with frozen layers, down to the first trained layer after them, which computes its weight
    /// gradient and, where it is a GEMM layer, no input gradient (nothing below needs one). Where
    /// that layer is a convolution the pooling after it ran in the forward pass, and needs no input
    /// gradient, the pooling hands its gradient straight to the convolution's weight gradient
    /// (MaxPool2D.BackwardWeightsMaxPool).
    /// </summary>
    public void Backward(Tensor logitGrad)
    {
        int last = FrozenLayers == 0 ? 0 : layers.FindIndex(FrozenLayers, l => l.ParameterCount(true) > 0);
        Tensor? grad = logitGrad;
        for (int i = layers.Count - 1; i >= last && grad is not null; i--)
        {
            if (i - 1 == last && layers[i] is MaxPool2D pool && pool.PoolsConvolution == layers[last]
                && (FrozenLayers > 0 || !layers[last].NeedsInputGradient))
            {
                pool.BackwardWeightsMaxPool(grad);
                return;
            }
            if (i == last && FrozenLayers > 0 && layers[i] is IGemmLayer gemm) gemm.BackwardWeights(gemm.ActivationGradient(grad));
            else grad = layers[i].Backward(grad);
        }
    }

    public void Dispose()
    {
        foreach (var layer in layers) layer.Dispose();
        parameterBuffer?.Dispose();
        gradientBuffer?.Dispose();
        stateBuffer?.Dispose();
    }
}
