using System.Text.Json.Nodes;
using GpuCnn.Devices;
using GpuCnn.Kernels;
using GpuCnn.Tensors;

namespace GpuCnn.Layers;

/// <summary>Keras's padding modes. Same pads k/2 on every side (as PyTorch does for odd kernels).</summary>
public enum Padding
{
    Valid,
    Same,
}

/// <summary>
/// 2-D convolution over NHWC input with a KH×KW×Cin×Cout kernel (Keras's layout), in the variant
/// the launch plan picks for its shape (<see cref="ConvVariant"/>): im2col plus GEMM, an implicit
/// GEMM that reads the image in place of the columns, or Winograd F(2×2, 3×3). Bias and
/// activation are fused into the last kernel of the forward pass.
/// </summary>
public sealed class Conv2D(int filters, int kernelSize, Activation activation = Activation.None,
    Padding padding = Padding.Valid, int stride = 1, bool useBias = true) : Layer, IGemmLayer
{
    Parameter kernel = null!;
    Parameter? bias;
    Tensor? columns;
    /// <summary>The implicit GEMM's zero-padded copy of the input (B, H+2p, W+2p, Cin), kept from the forward pass for the weight gradient.</summary>
    Tensor? paddedInput;
    Tensor output = null!, kernelTransposed = null!;
    Tensor? inputGrad;
    readonly FusedActivation fused = new(activation);
    ConvGeometry geometry;
    int batch;
    Tensor? input;
    ConvVariant variant;
    bool implicitWeightGrad, implicitInputGrad;

    public int Filters => filters;
    public int KernelSize => kernelSize;
    public int Stride => stride;
    public Padding PaddingMode => padding;
    public Activation ActivationKind => activation;
    public override bool EndsWithRelu => fused.Relu;

    protected override IEnumerable<(string, JsonNode?)> Options() =>
    [
        ("filters", filters), ("kernel_size", kernelSize), ("activation", LayerConfig.Name(activation)),
        ("padding", LayerConfig.Name(padding)), ("stride", stride), ("use_bias", useBias),
    ];

    /// <summary>How this layer runs on its device (set when it is built).</summary>
    public ConvVariant Variant => variant;
    public override string Kind => "Conv2D";
    public override string Details =>
        $"{kernelSize}x{kernelSize}" + (stride > 1 ? $"/{stride}" : "") + (padding == Padding.Same ? " same" : "") +
        (activation == Activation.Relu ? ", relu" : "");

    protected override void CheckOptions()
    {
        LayerLimits.Filters.Check(Owner, filters);
        LayerLimits.KernelSize.Check(Owner, kernelSize);
        LayerLimits.Stride.Check(Owner, stride);
        if (!Enum.IsDefined(activation)) throw Refused($"activation must be relu or none, got {activation}");
        if (!Enum.IsDefined(padding)) throw Refused($"padding must be same or valid, got {padding}");
    }

    int Pad => padding == Padding.Same ? kernelSize / 2 : 0;

    /// <summary>
    /// Output (OH, OW, filters) with OH = (H + 2p - k) / s + 1. Buffers: the im2col columns
    /// (B·OH·OW × k·k·Cin) where the variant uses them, output, dZ of a fused ReLU and the input
    /// gradient (B·H·W·Cin); workspaces: split-K partials of the three GEMMs and the bias sum,
    /// and Winograd's transforms (16 × Cin·filters, 16 × tiles·channels) where Winograd runs, or
    /// the fused Winograd tiles' transformed kernel (36 × Cin·filters for F(4×4, 3×3)) and the
    /// Winograd weight gradient's transforms and products per chunk, and a strided layer's parity
    /// classes' kernels and outputs where its input gradient goes by parity.
    /// </summary>
    protected override int[] PlanFor(int[] inputShape, LayerPlan plan)
    {
        RequireImage(inputShape);
        long paddedHeight = inputShape[0] + 2L * Pad, paddedWidth = inputShape[1] + 2L * Pad;
        if (paddedHeight < kernelSize || paddedWidth < kernelSize)
            throw Refused($"a {kernelSize}x{kernelSize} kernel does not fit its input {ShapeText(inputShape)}" +
                          (Pad > 0 ? $" padded to {paddedHeight}x{paddedWidth}" : ""));
        long outHeight = (paddedHeight - kernelSize) / stride + 1, outWidth = (paddedWidth - kernelSize) / stride + 1;
        var output = ShapeOf(outHeight, outWidth, filters);
        long columnRows = LayerPlan.Product(plan.MaxBatch, outHeight, outWidth);
        long columnWidth = LayerPlan.Product(kernelSize, kernelSize, inputShape[2]);
        plan.Parameter("kernel", kernelSize, kernelSize, inputShape[2], filters);
        if (useBias) plan.Parameter("bias", filters);

        // Sizes past an int are refused by the model's plan; the variant is only asked of geometries that fit one.
        var variant = ConvVariant.Im2Col;
        bool implicitWeights = false, implicitInput = false;
        var g = new ConvGeometry(plan.MaxBatch, inputShape[0], inputShape[1], inputShape[2], kernelSize, kernelSize, stride, Pad);
        if (columnRows <= int.MaxValue && columnWidth <= int.MaxValue)
        {
            variant = KernelLauncher.ConvVariantFor(plan.Launch, g, filters);
            implicitWeights = variant != ConvVariant.Im2Col && KernelLauncher.ImplicitFits(g, filters);
            implicitInput = KernelLauncher.UsesImplicitInputGrad(variant, g);
        }
        // As Allocate decides, taking the input gradient as needed (an upper bound for the first layer).
        if (ColumnsUsed(variant, implicitWeights, implicitInput, needsInputGradient: true))
            plan.Buffer("columns", columnRows, columnWidth);
        if (implicitWeights && Pad > 0)
        {
            // The implicit forward pass keeps its padded input for the weight gradient; Winograd's
            // weight gradient pads in a workspace, which the input gradient's padded dZ shares.
            if (variant == ConvVariant.Implicit) plan.Buffer("padded input", plan.MaxBatch, paddedHeight, paddedWidth, inputShape[2]);
            else plan.Workspace("padded input", plan.MaxBatch, paddedHeight, paddedWidth, inputShape[2]);
        }
        if (implicitInput)
        {
            plan.Workspace("padded input", plan.MaxBatch, outHeight + 2L * (kernelSize - 1 - Pad), outWidth + 2L * (kernelSize - 1 - Pad), filters);
            if (stride == 1) plan.Workspace("flipped kernel", columnWidth, filters);
            else
            {
                // A strided layer's input gradient by parity: the classes' kernels and outputs.
                var classes = new ParityClasses(g, filters);
                plan.Workspace("parity kernels", classes.KernelFloats);
                plan.Workspace("parity outputs", classes.OutputFloats);
            }
        }
        // The implicit GEMM's tile may be a fused Winograd one (input channels in multiples of 16),
        // which transforms the kernel into a workspace: 36 elements for F(4×4, 3×3).
        if (variant == ConvVariant.Implicit && kernelSize == 3 && stride == 1 && inputShape[2] % 16 == 0)
            plan.Workspace("winograd filter", Conv2dWinogradKernels.Elements(4), inputShape[2], filters);
        // The weight gradient (implicit where it fits) may take a Winograd tile where the plan measures
        // tiles or names one: each chunk's transforms and products.
        var launch = plan.Launch;
        if (implicitWeights && (launch.Tile == 0 || KernelLauncher.IsWinogradTile(launch.Tile)))
        {
            foreach (int tile in KernelLauncher.WinogradTiles.Where(tile => KernelLauncher.WinogradWeightGradFits(g, filters, tile)))
            {
                int size = KernelLauncher.WinogradSize(tile), elements = Conv2dWinogradKernels.Elements(size);
                var split = launch.WinogradWeightGradSplit(g, filters, size);
                plan.Workspace("winograd input", split.Chunks, elements, split.Batch, inputShape[2] + filters);
                plan.Workspace("winograd product", split.Chunks, elements, inputShape[2], filters);
            }
        }
        plan.BatchBuffer("output", output);
        plan.Buffer("transposed kernel", filters, columnWidth);
        if (activation != Activation.None) plan.BatchBuffer("activation gradient", output);
        plan.BatchBuffer("input gradient", inputShape);

        plan.Gemm(columnRows, filters, columnWidth);
        plan.Gemm(columnWidth, filters, columnRows);
        plan.Gemm(columnRows, columnWidth, filters);
        if (useBias) plan.SplitReduction(columnRows, filters);
        if (variant == ConvVariant.Winograd)
        {
            // Forward: tiles of the output; input gradient: tiles of the input, channels swapped.
            long forwardTiles = LayerPlan.Product(plan.MaxBatch, (outHeight + 1) / 2, (outWidth + 1) / 2);
            long backwardTiles = LayerPlan.Product(plan.MaxBatch, (inputShape[0] + 1L) / 2, (inputShape[1] + 1L) / 2);
            plan.Workspace("winograd filter", 16, inputShape[2], filters);
            foreach (var (tiles, inChannels, outChannels) in new[] { (forwardTiles, (long)inputShape[2], (long)filters), (backwardTiles, filters, inputShape[2]) })
            {
                plan.Workspace("winograd input", 16, tiles, inChannels);
                plan.Workspace("winograd product", 16, tiles, outChannels);
                plan.Gemm(tiles, outChannels, inChannels);
            }
        }
        return output;
    }

    protected override int[] Configure(int[] inputShape)
    {
        geometry = new ConvGeometry(MaxBatch, inputShape[0], inputShape[1], inputShape[2], kernelSize, kernelSize, stride, Pad);
        int fanIn = geometry.ColumnWidth, fanOut = kernelSize * kernelSize * filters;
        kernel = AddWeight("kernel", [kernelSize, kernelSize, inputShape[2], filters], Initializer.GlorotUniform, fanIn, fanOut);
        bias = useBias ? AddWeight("bias", [filters], Initializer.Zeros, fanIn, fanOut) : null;
        variant = Kernels.ConvVariantFor(geometry, filters);
        // The weight gradient needs no columns where the implicit kernel fits, so Winograd layers use it too.
        implicitWeightGrad = variant != ConvVariant.Im2Col && KernelLauncher.ImplicitFits(geometry, filters);
        implicitInputGrad = KernelLauncher.UsesImplicitInputGrad(variant, geometry);
        return [geometry.OutHeight, geometry.OutWidth, filters];
    }

    public override void Allocate()
    {
        if (ColumnsUsed(variant, implicitWeightGrad, implicitInputGrad, NeedsInputGradient)) columns = Own(Tensor.Zeros(Device, geometry.ColumnRows, geometry.ColumnWidth));
        // Only where the weight gradient cannot skip the padding: elsewhere the launcher pads for a
        // register tile's forward pass only, and a fused Winograd tile reads the input as it is.
        if (variant == ConvVariant.Implicit && Pad > 0 && !WeightGradRows.ReadsUnpadded(geometry))
        {
            var padded = geometry.OverPaddedInput;
            paddedInput = BatchTensor([padded.InHeight, padded.InWidth, padded.InChannels]);
        }
        output = BatchTensor(OutputShape);
        kernelTransposed = Own(Tensor.Zeros(Device, filters, geometry.ColumnWidth));
        fused.Allocate(() => BatchTensor(OutputShape));
        if (NeedsInputGradient) inputGrad = BatchTensor(InputShape);
    }

    /// <summary>Whether the column matrix is used: im2col's output, and the scratch of the input gradient's dCol.</summary>
    static bool ColumnsUsed(ConvVariant variant, bool implicitWeights, bool implicitInput, bool needsInputGradient) =>
        variant == ConvVariant.Im2Col || !implicitWeights
        || (needsInputGradient && variant != ConvVariant.Winograd && !implicitInput);

    ConvGeometry GeometryFor(int rows) => new(rows, geometry.InHeight, geometry.InWidth, geometry.InChannels,
        geometry.KernelHeight, geometry.KernelWidth, geometry.Stride, geometry.Padding);

    /// <summary>
    /// What the implicit kernels read for geometry g: the input itself, or the padded copy the
    /// layer keeps where its weight gradient needs one (its forward pass fills it, its weight
    /// gradient reads it again) with the unpadded geometry over it.
    /// </summary>
    (Tensor Input, ConvGeometry Geometry) ImplicitOperand(Tensor input, ConvGeometry g) =>
        paddedInput is null ? (input, g) : (paddedInput.FirstRows(g.Batch), g.OverPaddedInput);

    public override Tensor Forward(Tensor input, PassContext pass)
    {
        this.input = input;
        batch = input.Shape[0];
        var g = GeometryFor(batch);
        var gemm = GemmArgs.RowMajor(g.ColumnRows, filters, g.ColumnWidth)
            .WithEpilogue(bias is not null, fused.Relu);
        var result = output.FirstRows(batch);
        if (variant == ConvVariant.Implicit)
        {
            var (x, over) = ImplicitOperand(input, g);
            if (paddedInput is not null) Kernels.Conv2dPad(input.View, x.View, g);
            Kernels.Conv2dForwardImplicit(x.View, kernel.Value.View, result.View, bias?.Value.View, over, gemm);
            return result;
        }
        if (variant == ConvVariant.Winograd)
        {
            Kernels.Conv2dWinograd(input.View, kernel.Value.View, result.View, bias?.Value.View, g, gemm, flip: 0);
            return result;
        }
        Kernels.Im2Col(input.View, columns!.View, g);
        Kernels.Gemm(columns.View, kernel.Value.View, result.View, bias?.Value.View, gemm);
        return result;
    }

    /// <summary>
    /// Whether Conv2dForwardMaxPool runs this layer with the pooling of geometry p after it: the
    /// implicit GEMM's variant with a ReLU (whose mask the pooling's backward pass then applies)
    /// and a short K, unpadded (<see cref="KernelLauncher.ForwardMaxPoolFits"/>).
    /// </summary>
    internal bool ForwardMaxPoolFits(PoolGeometry p) =>
        variant == ConvVariant.Implicit && fused.Relu && KernelLauncher.ForwardMaxPoolFits(geometry, filters, p);

    /// <summary>This layer's forward pass and the max pooling after it in one (<see cref="MaxPool2D.PoolsConvolution"/>): the pooling's output and argmax; this layer's output is not written.</summary>
    public void ForwardMaxPool(Tensor input, Tensor pooled, Tensor<int> argmax, PoolGeometry p)
    {
        this.input = input;
        batch = input.Shape[0];
        var gemm = new GemmArgs { N = filters }.WithEpilogue(bias is not null, fused.Relu);
        Kernels.Conv2dForwardMaxPool(input.View, kernel.Value.View, bias?.Value.View, pooled.View, argmax.View, GeometryFor(batch), p, gemm);
    }

    /// <summary>
    /// BackwardWeights from the gradient of the max pooling that ForwardMaxPool ran with this layer,
    /// without dZ (Conv2dWeightGradMaxPool, MaxPool2DBackwardColumnSum): the pooling's output
    /// gradient, output and argmax. For the lowest trained layer, which needs no input gradient.
    /// The pair always has the implicit weight gradient, whose sums these are.
    /// </summary>
    public void BackwardWeightsMaxPool(Tensor pooledGrad, Tensor pooled, Tensor<int> argmax, PoolGeometry p)
    {
        Kernels.Conv2dWeightGradMaxPool(input!.View, pooledGrad.View, argmax.View, pooled.View, kernel.Gradient.View, GeometryFor(batch), p);
        if (bias is not null) Kernels.MaxPool2DBackwardColumnSum(pooledGrad.View, argmax.View, pooled.View, bias.Gradient.View, p);
    }

    public override Tensor? Backward(Tensor outputGrad)
    {
        var grad = ActivationGradient(outputGrad);
        BackwardWeights(grad);
        return inputGrad is null ? null : BackwardInput(grad);
    }

    /// <summary>dL/dZ before the fused activation: dY masked where the ReLU was off.</summary>
    public Tensor ActivationGradient(Tensor outputGrad) => fused.Gradient(Kernels, output, outputGrad, batch, ReluBackwardTakenOver);

    /// <summary>dW = colᵀ · dZ (the implicit kernel, or a GEMM over the columns) and db = Σ rows of dZ.</summary>
    public void BackwardWeights(Tensor grad)
    {
        var g = GeometryFor(batch);
        if (implicitWeightGrad)
        {
            var (x, over) = ImplicitOperand(input!, g);
            Kernels.Conv2dWeightGradImplicit(x.View, grad.View, kernel.Gradient.View, over, filters);
        }
        else
        {
            // Only im2col's forward pass leaves the columns behind.
            if (variant != ConvVariant.Im2Col) Kernels.Im2Col(input!.View, columns!.View, g);
            Kernels.Gemm(columns!.View, grad.View, kernel.Gradient.View, null,
                GemmArgs.RowMajor(g.ColumnWidth, filters, g.ColumnRows, transposeA: true));
        }
        if (bias is not null) Kernels.ColumnSum(grad.View, bias.Gradient.View, g.ColumnRows, filters);
    }

    /// <summary>
    /// dX: with Winograd or the implicit GEMM, the convolution of dZ (padded by K-1-p) with the
    /// kernel turned 180° (a stride-2 layer's in four, one per parity class of the input pixels); else dCol = dZ · Wᵀ (into the column buffer, whose forward content BackwardWeights has
    /// used), folded back onto the input.
    /// </summary>
    public Tensor BackwardInput(Tensor grad)
    {
        var result = (inputGrad ?? throw new InvalidOperationException($"{Name} computes no input gradient.")).FirstRows(batch);
        var g = GeometryFor(batch);
        if (variant == ConvVariant.Winograd)
        {
            var transposed = new ConvGeometry(batch, g.OutHeight, g.OutWidth, filters, 3, 3, 1, 2 - g.Padding);
            // Its outputs are the layer's input channels; no bias or activation.
            Kernels.Conv2dWinograd(grad.View, kernel.Value.View, result.View, null, transposed, new GemmArgs { N = g.InChannels }, flip: 1);
            return result;
        }
        if (implicitInputGrad)
        {
            Kernels.Conv2dInputGradImplicit(grad.View, kernel.Value.View, result.View, g, filters);
            return result;
        }
        Kernels.Transpose(kernel.Value.View, kernelTransposed.View, g.ColumnWidth, filters);
        Kernels.Gemm(grad.View, kernelTransposed.View, columns!.View, null, GemmArgs.RowMajor(g.ColumnRows, g.ColumnWidth, filters));
        Kernels.Col2Im(columns.View, result.View, g);
        return result;
    }

    /// <summary>Multiply-adds ×2 of each GEMM pass for the current batch (the same for all three).</summary>
    public long GemmFlops => GemmArgs.RowMajor(GeometryFor(batch).ColumnRows, filters, geometry.ColumnWidth).Flops;
}
