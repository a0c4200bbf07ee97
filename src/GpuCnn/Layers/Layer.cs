using System.Text.Json.Nodes;
using GpuCnn.Devices;
using GpuCnn.Tensors;

namespace GpuCnn.Layers;

/// <summary>
/// What a forward pass needs beyond its input: training or inference, and this step's random seed.
/// <paramref name="RecalibrationWeight"/> &gt; 0 marks a batch-norm recalibration pass (PreciseBN):
/// an inference pass (no dropout) in which batch norm normalises with the batch's statistics and
/// moves its moving averages that far towards them. <paramref name="RowOffset"/> is the position
/// of the batch's first row in the whole mini-batch: a data-parallel rank holds a slice of it and
/// keys its dropout masks by the global row, as one process would (0 otherwise).
/// </summary>
public readonly record struct PassContext(bool Training, uint Seed, float RecalibrationWeight = 0f, int RowOffset = 0)
{
    public static PassContext Inference => new(false, 0);

    /// <summary>Pass number <paramref name="batch"/> (from 0) of a recalibration: weight 1/(batch+1) makes the moving averages the equal-weight mean over the passes so far.</summary>
    public static PassContext Recalibration(int batch) => new(false, 0, 1f / (batch + 1));

    /// <summary>Whether batch norm uses (and tracks) the batch's own statistics.</summary>
    public bool UsesBatchStatistics => Training || RecalibrationWeight > 0f;
}

/// <summary>
/// One layer: it declares its parameters, allocates its activations for the largest batch once
/// (nothing is allocated per batch), and runs its kernels forward and backward. Shapes exclude
/// the batch dimension and are checked here, on the host, once.
/// </summary>
public abstract class Layer : IDisposable
{
    readonly List<IDisposable> owned = [];

    public string Name { get; set; } = "";
    public int[] InputShape { get; private set; } = [];
    public int[] OutputShape { get; private set; } = [];

    /// <summary>Whether Backward must produce the input gradient (false for the first layer).</summary>
    public bool NeedsInputGradient { get; set; } = true;

    /// <summary>Whether the output is a ReLU's (a ReLU layer, or Conv2D and Dense with relu): the layer after may take over its backward pass.</summary>
    public virtual bool EndsWithRelu => false;

    /// <summary>
    /// Set when the next layer applies this layer's ReLU mask to the gradient it returns
    /// (<see cref="LayerFusion"/>): Backward then skips its own.
    /// </summary>
    public bool ReluBackwardTakenOver { get; internal set; }

    public abstract string Kind { get; }
    readonly List<Parameter> weights = [];

    /// <summary>The weights and tracked statistics this layer registered with <see cref="AddWeight"/>, in that order.</summary>
    public virtual IReadOnlyList<Parameter> Parameters => weights;

    /// <summary>
    /// Declares and registers a weight in one call, as Keras's add_weight: named "layer/name",
    /// bound to the model's flat buffers and initialised when the model is built, saved in
    /// checkpoints, and (when trainable) updated by the optimizer.
    /// </summary>
    protected Parameter AddWeight(string name, int[] shape, Initializer initializer, int fanIn, int fanOut, bool trainable = true)
    {
        var weight = new Parameter($"{Name}/{name}", shape, initializer, fanIn, fanOut, trainable);
        weights.Add(weight);
        return weight;
    }

    /// <summary>
    /// The layer's configuration, as Keras's get_config: its kind, its name and its options, enough
    /// for <see cref="LayerConfig.Create"/> to build the same layer again. Model files store it.
    /// </summary>
    public JsonObject Config()
    {
        var config = new JsonObject { ["kind"] = Kind, ["name"] = Name };
        foreach (var (option, value) in Options()) config[option] = value;
        return config;
    }

    /// <summary>The constructor's options, by the names <see cref="LayerConfig.Create"/> reads.</summary>
    protected virtual IEnumerable<(string Option, JsonNode? Value)> Options() => [];

    protected ComputeDevice Device { get; private set; } = null!;
    protected KernelLauncher Kernels => Device.Kernels;
    protected int MaxBatch { get; private set; }

    /// <summary>
    /// Fixes the input shape, declares parameters and returns the output shape. The layer is
    /// planned first (<see cref="Plan"/>), so options or an input it cannot take are refused
    /// before anything is declared or allocated.
    /// </summary>
    public int[] Build(int[] inputShape, ComputeDevice device, int maxBatch)
    {
        var planned = Plan(inputShape, maxBatch, device.Plan).OutputShape;
        InputShape = inputShape;
        Device = device;
        MaxBatch = maxBatch;
        OutputShape = Configure(inputShape);
        if (!OutputShape.SequenceEqual(planned))
            throw new InvalidOperationException($"layer {Name}: planned output {ShapeText(planned)} but built {ShapeText(OutputShape)}.");
        return OutputShape;
    }

    /// <summary>
    /// Checks the options and the input shape, and works out the output shape and every buffer
    /// <see cref="Build"/> and <see cref="Allocate"/> would make for batches of up to maxBatch,
    /// with no device. ArgumentException, one line naming the layer, when it cannot be built.
    /// </summary>
    public LayerPlan Plan(int[] inputShape, int maxBatch, LaunchPlan launch)
    {
        CheckOptions();
        var plan = new LayerPlan(Name, maxBatch, launch);
        plan.OutputShape = PlanFor(inputShape, plan);
        return plan;
    }

    /// <summary>Checks the constructor's options against <see cref="LayerLimits"/>.</summary>
    protected virtual void CheckOptions() { }

    /// <summary>Checks the input shape (already validated: each dimension at least 1), records what Build allocates in plan, returns the output shape.</summary>
    protected abstract int[] PlanFor(int[] inputShape, LayerPlan plan);

    /// <summary>Declares parameters and returns the output shape, for an input <see cref="PlanFor"/> accepted.</summary>
    protected abstract int[] Configure(int[] inputShape);

    /// <summary>"layer conv2d_1": how messages name this layer.</summary>
    protected string Owner => $"layer {Name}";

    /// <summary>A one-line refusal naming this layer: "layer conv2d_1: {problem}."</summary>
    protected ArgumentException Refused(string problem) => new($"{Owner}: {problem}.");

    /// <summary>Refuses input that is not (height, width, channels).</summary>
    protected void RequireImage(int[] inputShape)
    {
        if (inputShape.Length != 3)
            throw Refused($"{Kind} needs (height, width, channels) input, got {ShapeText(inputShape)}");
    }

    /// <summary>A shape whose dimensions were worked out in longs: refused when one does not fit an int.</summary>
    protected int[] ShapeOf(params long[] dimensions)
    {
        foreach (long d in dimensions)
            if (d is < 1 or > int.MaxValue)
                throw Refused($"its output would be ({string.Join(", ", dimensions)}), and each dimension must be between 1 and {int.MaxValue}");
        return [.. dimensions.Select(d => (int)d)];
    }

    /// <summary>Allocates activation buffers; called after parameters are bound.</summary>
    public virtual void Allocate() { }

    /// <summary>
    /// Runs the layer on a batch. <paramref name="input"/> is [batch, ..<see cref="InputShape"/>]
    /// with 1 ≤ batch ≤ the maxBatch the layer was built for; the result is
    /// [batch, ..<see cref="OutputShape"/>].
    /// <para>The result is a view of a buffer the layer owns, or of <paramref name="input"/> itself
    /// (a reshape, or a pass that changes nothing, such as dropout at inference): the layer's next
    /// Forward call overwrites it, so finish with it (or copy it) first. It is never new device memory.</para>
    /// <para>The layer keeps <paramref name="input"/> and its own output for <see cref="Backward"/>:
    /// leave both unchanged until then.</para>
    /// </summary>
    public abstract Tensor Forward(Tensor input, PassContext pass);

    /// <summary>
    /// Back-propagates through the last <see cref="Forward"/> call. <paramref name="outputGrad"/> is
    /// dL/dOutput, [batch, ..<see cref="OutputShape"/>] with that call's batch; it is read, never
    /// written (a residual block hands the same gradient to two branches).
    /// <para>Every trainable parameter's gradient (<see cref="Parameter.Gradient"/>) is replaced by
    /// this batch's, not added to: a caller that sums over several batches adds them itself.</para>
    /// <para>Returns dL/dInput, [batch, ..<see cref="InputShape"/>]: a view of a buffer the layer
    /// owns, which the next Backward call overwrites, or of <paramref name="outputGrad"/> itself
    /// (a reshape, or dropout at rate 0). Null when <see cref="NeedsInputGradient"/> is false.</para>
    /// </summary>
    public abstract Tensor? Backward(Tensor outputGrad);

    /// <summary>Allocates a zeroed device tensor of [maxBatch, ..perSample] owned by this layer.</summary>
    protected Tensor BatchTensor(int[] perSample) => Own(Tensor.Zeros(Device, [MaxBatch, .. perSample]));

    /// <summary>Registers a tensor (of any element type) for disposal with the layer.</summary>
    protected TTensor Own<TTensor>(TTensor tensor) where TTensor : IDisposable
    {
        owned.Add(tensor);
        return tensor;
    }

    public int ParameterCount(bool trainable) => Parameters.Where(p => p.Trainable == trainable).Sum(p => p.Length);

    /// <summary>Text for the summary's last column, e.g. "relu".</summary>
    public virtual string Details => "";

    public virtual void Dispose()
    {
        foreach (var tensor in owned) tensor.Dispose();
        owned.Clear();
        GC.SuppressFinalize(this);
    }

    protected static int Product(int[] shape) => shape.Aggregate(1, (a, b) => a * b);

    protected static string ShapeText(int[] shape) => "(" + string.Join(", ", shape) + ")";
}
