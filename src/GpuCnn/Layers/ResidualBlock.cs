using GpuCnn.Tensors;

namespace GpuCnn.Layers;

/// <summary>
/// A basic residual block (He et al. 2016): conv 3×3 (stride s) → BN → ReLU → conv 3×3 → BN, plus
/// the shortcut, then ReLU; the last BN adds the shortcut and applies that ReLU in its own pass.
/// The shortcut is the identity when the shape is kept, else a 1×1 convolution with stride s and
/// BN (a projection). Convolutions have no bias (BN follows).
/// </summary>
public sealed class ResidualBlock(int filters, int stride = 1) : Layer
{
    Layer[] main = [];
    Layer[] shortcut = [];
    Tensor output = null!, outputGrad = null!;
    Tensor? input, inputGrad;

    public override string Kind => "ResidualBlock";
    public override IReadOnlyList<Parameter> Parameters => main.Concat(shortcut).SelectMany(l => l.Parameters).ToList();
    public override string Details => (shortcut.Length > 0 ? "projection" : "identity") + $" shortcut, {filters} filters" +
                                      (stride > 1 ? $", stride {stride}" : "");
    public bool HasProjection => shortcut.Length > 0;

    /// <summary>The block ends with the ReLU of its add.</summary>
    public override bool EndsWithRelu => true;

    /// <summary>
    /// Set when the layer before ends with a ReLU (<see cref="LayerFusion"/>): the block applies
    /// that ReLU's mask (its own input &gt; 0) as it adds its branches' input gradients.
    /// </summary>
    public bool TakesReluBackward { get; internal set; }

    protected override IEnumerable<(string, System.Text.Json.Nodes.JsonNode?)> Options() => [("filters", filters), ("stride", stride)];

    /// <summary>conv_a, bn_a, relu_a, conv_b, bn_b.</summary>
    public IReadOnlyList<Layer> MainPath => main;

    /// <summary>Empty (the identity), or the projection's convolution and batch norm.</summary>
    public IReadOnlyList<Layer> Shortcut => shortcut;

    protected override void CheckOptions()
    {
        LayerLimits.Filters.Check(Owner, filters);
        LayerLimits.Stride.Check(Owner, stride);
    }

    /// <summary>The inner layers for an input of inChannels: the main path, and the projection where the shape changes.</summary>
    (Layer[] Main, Layer[] Shortcut) Chains(int inChannels) => (
        [
            new Conv2D(filters, 3, Activation.None, Padding.Same, stride, useBias: false) { Name = $"{Name}/conv_a" },
            new BatchNormalization { Name = $"{Name}/bn_a" },
            new ReLU { Name = $"{Name}/relu_a" },
            new Conv2D(filters, 3, Activation.None, Padding.Same, 1, useBias: false) { Name = $"{Name}/conv_b" },
            new BatchNormalization { Name = $"{Name}/bn_b", AddsResidual = true },
        ],
        stride != 1 || inChannels != filters
            ? [new Conv2D(filters, 1, Activation.None, Padding.Valid, stride, useBias: false) { Name = $"{Name}/projection" },
               new BatchNormalization { Name = $"{Name}/bn_projection" }]
            : []);

    /// <summary>The inner layers' plans (planned on layers of their own, nothing built), and output, dZ and the input gradient.</summary>
    protected override int[] PlanFor(int[] inputShape, LayerPlan plan)
    {
        RequireImage(inputShape);
        var (mainPath, shortcutPath) = Chains(inputShape[2]);
        int[] PlanChain(Layer[] chain)
        {
            var shape = inputShape;
            foreach (var layer in chain)
            {
                var inner = layer.Plan(shape, plan.MaxBatch, plan.Launch);
                plan.Include(inner);
                shape = inner.OutputShape;
            }
            return shape;
        }
        var output = PlanChain(mainPath);
        var shortcutOutput = PlanChain(shortcutPath);
        if (!output.SequenceEqual(shortcutOutput))
            throw Refused($"its main path gives {ShapeText(output)} but its shortcut {ShapeText(shortcutOutput)}");
        plan.BatchBuffer("output", output);
        plan.BatchBuffer("output gradient", output);
        plan.BatchBuffer("input gradient", inputShape);
        return output;
    }

    protected override int[] Configure(int[] inputShape)
    {
        (main, shortcut) = Chains(inputShape[2]);
        var shape = BuildChain(main, inputShape);
        BuildChain(shortcut, inputShape);
        LayerFusion.Pair(main); // bn_a takes relu_a in
        return shape;
    }

    int[] BuildChain(Layer[] chain, int[] shape)
    {
        foreach (var layer in chain)
        {
            layer.NeedsInputGradient = true;
            shape = layer.Build(shape, Device, MaxBatch);
        }
        return shape;
    }

    public override void Allocate()
    {
        foreach (var layer in main.Concat(shortcut)) layer.Allocate();
        output = BatchTensor(OutputShape);
        outputGrad = BatchTensor(OutputShape);
        if (NeedsInputGradient) inputGrad = BatchTensor(InputShape);
    }

    public override Tensor Forward(Tensor input, PassContext pass)
    {
        this.input = input;
        // conv_a → bn_a (with relu_a) → conv_b; bn_b adds the shortcut and applies the block's ReLU in its own pass.
        var a = main.Take(main.Length - 1).Aggregate(input, (x, layer) => layer.Forward(x, pass));
        var b = shortcut.Aggregate(input, (x, layer) => layer.Forward(x, pass));
        return ((BatchNormalization)main[^1]).ForwardAdding(a, b, output.FirstRows(input.Shape[0]), pass);
    }

    public override Tensor? Backward(Tensor dy)
    {
        int batch = dy.Shape[0];
        var dz = dy;
        if (!ReluBackwardTakenOver)
        {
            dz = outputGrad.FirstRows(batch);
            Kernels.ReluBackward(output.FirstRows(batch).View, dy.View, dz.View);
        }
        // The add passes dZ to both branches unchanged; their input gradients add up.
        var dMain = main.Reverse().Aggregate(dz, (g, layer) => layer.Backward(g)!);
        var dShortcut = shortcut.Reverse().Aggregate(dz, (g, layer) => layer.Backward(g)!);
        if (inputGrad is null) return null;
        var result = inputGrad.FirstRows(batch);
        if (TakesReluBackward) Kernels.AddReluBackward(dMain.View, dShortcut.View, input!.View, result.View);
        else Kernels.Add(dMain.View, dShortcut.View, result.View);
        return result;
    }

    public override void Dispose()
    {
        foreach (var layer in main.Concat(shortcut)) layer.Dispose();
        base.Dispose();
    }
}
