using GpuCnn.Kernels;
using ILGPU;

namespace GpuCnn.Devices;

/// <summary>Launchers of Conv2dKernels: im2col and col2im, the implicit-GEMM kernels, and the choice of a layer's variant.</summary>
public sealed partial class KernelLauncher
{
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, ConvGeometry> im2col = new(Conv2dKernels.Conv2dIm2Col);
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, ConvGeometry, int> col2im = new(Conv2dKernels.Conv2dCol2Im, streams: true);
    /// <summary>
    /// The register tiles the implicit kernels come in, as the plan, the tuner's file and bench
    /// name them, rows × 100 + filters: 416 and 616 (RegisterTile4, RegisterTile6), 816 and 1216
    /// (two of them stacked), 432 and 632 (two side by side, 32 filters), 832 (two stacked, twice
    /// side by side: 16 accumulators of 512 bits); in the order of their kernels below. These
    /// tiles give the same results bit for bit.
    /// </summary>
    public static readonly IReadOnlyList<int> Tiles = [416, 616, 816, 1216, 432, 632, 832];

    /// <summary>
    /// A forward pass in Winograd F(2×2, 3×3), fused into one kernel (Conv2dWinogradFused), is a
    /// tile too: <see cref="WinogradTile"/> + the register tile that multiplies its transforms,
    /// whose rows are then output tiles of 2×2 pixels; <see cref="Winograd4Tile"/> + the register
    /// tile for F(4×4, 3×3), whose rows are output tiles of 4×4 pixels. For a weight gradient the
    /// same tile runs F(3×3, 2×2) or F(3×3, 4×4) (Conv2dWinogradWeightGrad), its rows input
    /// channels. They round differently from the direct tiles and from each other.
    /// </summary>
    public const int WinogradTile = 10000, Winograd4Tile = 20000;

    /// <summary>
    /// Added to a fused Winograd tile: the same tile multiplying two elements at a time
    /// (Conv2dWinogradFused's elementPairs), for tiles whose accumulators alone are too few to
    /// hide the multiply-add latency; forward and input-gradient passes only. The same results.
    /// </summary>
    public const int WinogradPairs = 5000;

    /// <summary>
    /// A weight gradient by kernel rows (Conv2dWeightGradKernelRow) is a tile too:
    /// <see cref="KernelRowTile"/> + the register tile of each of its three taps, whose rows are
    /// then filters and whose 16 or 32 columns input channels (kernelrow8x16: 8 filters × 16
    /// channels a tap). It gives the direct tiles' results bit for bit.
    /// </summary>
    public const int KernelRowTile = 30000;

    /// <summary>The weight gradient's tiles by kernel rows that the tuner measures where they fit (KernelRowFits): three taps of 4 × 16 (12 accumulators), 8 × 16 (24) and 4 × 32 (24).</summary>
    public static readonly IReadOnlyList<int> KernelRowTiles = [KernelRowTile + 416, KernelRowTile + 816, KernelRowTile + 432];

    /// <summary>
    /// The Winograd tiles the tuner measures beside the register tiles, where they fit the pass
    /// (WinogradFusedFits, WinogradWeightGradFits): F(4×4, 3×3)'s 36 elements fill the fused
    /// kernel's shared memory with fewer rows and channels, so its forward tiles are smaller.
    /// </summary>
    public static readonly IReadOnlyList<int> WinogradTiles =
        [WinogradTile + 1216, WinogradTile + 816, WinogradTile + 632, WinogradTile + 832, Winograd4Tile + 816, Winograd4Tile + 616, Winograd4Tile + 432, Winograd4Tile + 416, Winograd4Tile + 832,
         Winograd4Tile + WinogradPairs + 416, Winograd4Tile + WinogradPairs + 432];

    /// <summary>The tiles that run some passes only, each where its fits function says it takes the pass and shape: Winograd's, then the kernel rows'.</summary>
    static readonly IReadOnlyList<int> PassTiles = [.. WinogradTiles, .. KernelRowTiles];

    /// <summary>Every tile a plan or bench may name.</summary>
    public static readonly IReadOnlyList<int> AllTiles = [.. Tiles, .. PassTiles];

    /// <summary>The tiles of 16 filters, for layers whose filters are not a multiple of 32.</summary>
    static readonly IReadOnlyList<int> Tiles16 = [.. Tiles.Where(tile => TileFilters(tile) == 16)];

    /// <summary>
    /// The tuner's candidate lists, each built the first time it is asked for, as they are asked
    /// for on every launch: at [mask + (1 &lt;&lt; PassTiles.Count) · wide], the register tiles that fit
    /// the filters (all of them where wide is 1, else Tiles16), then PassTiles[i] for each bit i of mask.
    /// </summary>
    static readonly IReadOnlyList<int>?[] Candidates = new IReadOnlyList<int>?[2 << PassTiles.Count];

    static IReadOnlyList<int> CandidatesFor(int mask, bool wide) =>
        Candidates[mask + (wide ? 1 << PassTiles.Count : 0)] ??= [.. wide ? Tiles : Tiles16, .. PassTiles.Where((_, i) => (mask >> i & 1) != 0)];

    /// <summary>The tile of these rows and filters, as <see cref="Tiles"/> names it.</summary>
    public static int Tile(int rows, int filters) => rows * 100 + filters;

    /// <summary>Whether a tile runs the fused Winograd forward pass.</summary>
    public static bool IsWinogradTile(int tile) => tile >= WinogradTile && tile < KernelRowTile;

    /// <summary>Whether a tile runs the weight gradient by kernel rows.</summary>
    public static bool IsKernelRowTile(int tile) => tile >= KernelRowTile;

    /// <summary>The register tile of a tile: itself, or the one a fused Winograd tile multiplies with, or a kernel-row tile's per tap.</summary>
    public static int RegisterTileOf(int tile) => tile % WinogradPairs;

    /// <summary>Whether a fused Winograd tile multiplies two elements at a time (<see cref="WinogradPairs"/>).</summary>
    public static bool PairsElements(int tile) => IsWinogradTile(tile) && tile % WinogradTile >= WinogradPairs;

    /// <summary>The output tile's edge of a fused Winograd tile: 2 for F(2×2, 3×3), 4 for F(4×4, 3×3).</summary>
    public static int WinogradSize(int tile) => tile >= Winograd4Tile ? 4 : 2;

    /// <summary>Rows of a tile (output pixels, kernel taps, Winograd's output tiles, or a kernel-row tile's filters).</summary>
    public static int TileRows(int tile) => RegisterTileOf(tile) / 100;

    /// <summary>Filters (columns) of a tile: 16 or 32; a kernel-row tile's columns are input channels.</summary>
    public static int TileFilters(int tile) => tile % 100;

    /// <summary>A tile as bench names it: tile12x16, tile6x32, winograd12x16 (F(2×2, 3×3)), winograd4x4-8x16 (F(4×4, 3×3)), winograd4x4-4x16-pairs, kernelrow8x16.</summary>
    public static string TileName(int tile) =>
        (IsKernelRowTile(tile) ? "kernelrow" : !IsWinogradTile(tile) ? "tile" : WinogradSize(tile) == 4 ? "winograd4x4-" : "winograd")
        + $"{TileRows(tile)}x{TileFilters(tile)}" + (PairsElements(tile) ? "-pairs" : "");

    readonly Kernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvGeometry, GemmArgs, int>[] convForwardImplicit =
    [
        new(Conv2dKernels.Conv2dForwardImplicit<RegisterTile4>), new(Conv2dKernels.Conv2dForwardImplicit<RegisterTile6>),
        new(Conv2dKernels.Conv2dForwardImplicit<StackedTile<RegisterTile4, RegisterTile4>>),
        new(Conv2dKernels.Conv2dForwardImplicit<StackedTile<RegisterTile6, RegisterTile6>>),
        new(Conv2dKernels.Conv2dForwardImplicit<WideTile<RegisterTile4>>), new(Conv2dKernels.Conv2dForwardImplicit<WideTile<RegisterTile6>>),
        new(Conv2dKernels.Conv2dForwardImplicit<WideTile<StackedTile<RegisterTile4, RegisterTile4>>>),
    ];
    readonly Kernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvGeometry, int, int, int, int>[] convWeightGradImplicit =
    [
        new(Conv2dKernels.Conv2dWeightGradImplicit<RegisterTile4>), new(Conv2dKernels.Conv2dWeightGradImplicit<RegisterTile6>),
        new(Conv2dKernels.Conv2dWeightGradImplicit<StackedTile<RegisterTile4, RegisterTile4>>),
        new(Conv2dKernels.Conv2dWeightGradImplicit<StackedTile<RegisterTile6, RegisterTile6>>),
        new(Conv2dKernels.Conv2dWeightGradImplicit<WideTile<RegisterTile4>>), new(Conv2dKernels.Conv2dWeightGradImplicit<WideTile<RegisterTile6>>),
        new(Conv2dKernels.Conv2dWeightGradImplicit<WideTile<StackedTile<RegisterTile4, RegisterTile4>>>),
    ];
    /// <summary>The weight gradient by kernel rows with the register tiles of <see cref="KernelRowTiles"/>, in its order.</summary>
    readonly Kernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvGeometry, int, int, int>[] convWeightGradKernelRow =
    [
        new(Conv2dKernels.Conv2dWeightGradKernelRow<RegisterTile4>),
        new(Conv2dKernels.Conv2dWeightGradKernelRow<StackedTile<RegisterTile4, RegisterTile4>>),
        new(Conv2dKernels.Conv2dWeightGradKernelRow<WideTile<RegisterTile4>>),
    ];
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, int, int, int> weightGradKernelRowSum = new(Conv2dKernels.Conv2dWeightGradKernelRowSum);
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, ConvGeometry, int> pad = new(Conv2dKernels.Conv2dPad, streams: true);
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, int, int, int> kernelFlip = new(Conv2dKernels.Conv2dKernelFlip);
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, ConvGeometry, int> parityKernels = new(Conv2dKernels.Conv2dParityKernels, streams: true);
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, ConvGeometry, int> parityInterleave = new(Conv2dKernels.Conv2dParityInterleave, streams: true);

    public void Im2Col(ArrayView<float> input, ArrayView<float> columns, ConvGeometry g)
    {
        RequireImage(nameof(Im2Col), "input", input, g);
        Require(nameof(Im2Col), "columns", columns, g.ColumnRows, g.ColumnWidth);
        im2col.LaunchSplit(this, g.ColumnRows, (long)g.KernelHeight * g.KernelWidth * g.ChannelGroups, input, columns, g);
    }

    public void Col2Im(ArrayView<float> columnGrad, ArrayView<float> inputGrad, ConvGeometry g)
    {
        Require(nameof(Col2Im), "columnGrad", columnGrad, g.ColumnRows, g.ColumnWidth);
        RequireImage(nameof(Col2Im), "inputGrad", inputGrad, g);
        int segment = RowSegment(g.InWidth), segments = (g.InWidth + segment - 1) / segment;
        col2im.LaunchSplit(this, g.Batch * g.InHeight * segments, (long)segment * g.KernelHeight * g.KernelWidth * g.ChannelGroups,
            columnGrad, inputGrad, g, segment);
    }

    /// <summary>A convolution's input (or its gradient): N×H×W×Cin.</summary>
    static void RequireImage(string kernel, string buffer, ArrayView<float> image, ConvGeometry g) =>
        Require(kernel, buffer, image, g.Batch, g.InHeight, g.InWidth, g.InChannels);

    /// <summary>Whether the implicit-GEMM kernels run a convolution's forward pass and weight gradient: filters in multiples of 16 (padding goes through a padded copy).</summary>
    public static bool ImplicitFits(ConvGeometry g, int filters) => filters % GemmKernels.TileCols == 0;

    /// <summary>
    /// Whether the implicit GEMM also runs the input gradient: input channels in multiples of 16
    /// (the transposed convolution's filters), and stride 1, a square kernel and padding below its
    /// size (one convolution of dZ with the flipped kernel), or a stride-2 layer that splits into
    /// <see cref="ParityClasses"/> (four of them). Else dCol = dZ·Wᵀ and col2im.
    /// </summary>
    public static bool ImplicitInputGradFits(ConvGeometry g) => g.InChannels % GemmKernels.TileCols == 0
        && (g.Stride == 1 && g.KernelHeight == g.KernelWidth && g.Padding < g.KernelHeight || ParityClasses.Fits(g));

    /// <summary>
    /// Whether a layer of this variant takes its input gradient from the implicit GEMM: wherever
    /// it fits (padded or not), instead of dZ·Wᵀ and col2im.
    /// </summary>
    public static bool UsesImplicitInputGrad(ConvVariant variant, ConvGeometry g) =>
        variant == ConvVariant.Implicit && ImplicitInputGradFits(g);

    /// <summary>
    /// The input of a convolution as the implicit kernels read it: itself when g is unpadded,
    /// else its zero-padded copy (B, H+2p, W+2p, Cin) in a workspace; <paramref name="unpadded"/>
    /// is the same convolution over what is returned, with no padding and the same output.
    /// </summary>
    ArrayView<float> PaddedInput(ArrayView<float> input, ConvGeometry g, out ConvGeometry unpadded)
    {
        unpadded = g;
        if (g.Padding == 0) return input;
        unpadded = g.OverPaddedInput;
        var padded = Workspace((long)unpadded.InputPixels * g.InChannels, Scratch.PaddedInput);
        Conv2dPad(input, padded, g);
        return padded;
    }

    /// <summary>Zero-pads an N×H×W×Cin image by g.Padding on every side into padded.</summary>
    public void Conv2dPad(ArrayView<float> input, ArrayView<float> padded, ConvGeometry g)
    {
        RequireImage(nameof(Conv2dPad), "input", input, g);
        Require(nameof(Conv2dPad), "padded", padded, g.Batch, g.InHeight + 2 * g.Padding, g.InWidth + 2 * g.Padding, g.InChannels);
        int width = g.InWidth + 2 * g.Padding, segment = RowSegment(width);
        int items = g.Batch * (g.InHeight + 2 * g.Padding) * ((width + segment - 1) / segment);
        pad.LaunchSplit(this, items, (long)segment * g.ChannelGroups, input, padded, g, segment);
    }

    /// <summary>The pixels of a row of this width one work-item of Conv2dPad or Conv2dCol2Im takes: the plan's RowSegment, or the whole row.</summary>
    int RowSegment(int width) => Plan.RowSegment > 0 ? Math.Min(Plan.RowSegment, width) : width;

    /// <summary>flipped (K×K×filters×Cin) = kernel (K×K×Cin×filters) turned 180° with its channel axes swapped.</summary>
    public void Conv2dKernelFlip(ArrayView<float> kernel, ArrayView<float> flipped, int kernelSize, int inChannels, int filters)
    {
        Require(nameof(Conv2dKernelFlip), "kernel", kernel, kernelSize, kernelSize, inChannels, filters);
        Require(nameof(Conv2dKernelFlip), "flipped", flipped, kernelSize, kernelSize, filters, inChannels);
        kernelFlip.LaunchSplit(this, kernelSize * kernelSize * inChannels * filters, 1, kernel, flipped, kernelSize, inChannels, filters);
    }

    /// <summary>
    /// dX (N×H×W×Cin) of a convolution with dZ (N×OH×OW×filters), in the implicit GEMM: at stride 1,
    /// dZ padded by K-1-p convolved with the flipped kernel; at stride 2, by the input pixels' parity
    /// (<see cref="ParityClasses"/>). Needs <see cref="ImplicitInputGradFits"/>.
    /// </summary>
    public void Conv2dInputGradImplicit(ArrayView<float> outputGrad, ArrayView<float> kernel, ArrayView<float> inputGrad,
        ConvGeometry g, int filters)
    {
        const string name = nameof(Conv2dInputGradImplicit);
        if (!ImplicitInputGradFits(g))
            throw new ArgumentException($"{name}: needs Cin % 16 == 0 and stride 1, a square kernel and padding below its size, or stride 2, a 1×1 or 3×3 kernel and padding (K-1)/2.", nameof(g));
        Require(name, "outputGrad", outputGrad, g.Batch, g.OutHeight, g.OutWidth, filters);
        Require(name, "kernel", kernel, g.KernelHeight, g.KernelWidth, g.InChannels, filters);
        RequireImage(name, "inputGrad", inputGrad, g);
        if (g.Stride != 1)
        {
            InputGradByParity(outputGrad, kernel, inputGrad, g, filters);
            return;
        }
        var transposed = new ConvGeometry(g.Batch, g.OutHeight, g.OutWidth, filters, g.KernelHeight, g.KernelWidth, 1,
            g.KernelHeight - 1 - g.Padding);
        ForwardImplicit(name, outputGrad, kernel, flip: 1, inputGrad, null, transposed,
            GemmArgs.RowMajor(transposed.ColumnRows, g.InChannels, transposed.ColumnWidth));
    }

    /// <summary>A stride-2 layer's input gradient as the four stride-1 convolutions of <see cref="ParityClasses"/>, then interleaved into dX.</summary>
    void InputGradByParity(ArrayView<float> outputGrad, ArrayView<float> kernel, ArrayView<float> inputGrad, ConvGeometry g, int filters)
    {
        var classes = new ParityClasses(g, filters);
        var classKernels = Workspace(classes.KernelFloats, Scratch.ParityKernels);
        var classOutputs = Workspace(classes.OutputFloats, Scratch.ParityOutputs);
        parityKernels.LaunchSplit(this, g.KernelHeight * g.KernelWidth * g.InChannels * filters, 1, kernel, classKernels, g, filters);
        for (int k = 0; k < 4; k++)
        {
            if (!classes.Sees(k / 2, k % 2)) continue;
            var c = classes.Class(k / 2, k % 2);
            ForwardImplicit(nameof(Conv2dInputGradImplicit), outputGrad, classKernels.SubView(classes.KernelOffset(k), c.ColumnWidth * g.InChannels), flip: 0,
                classOutputs.SubView(classes.OutputOffset(k), (long)c.ColumnRows * g.InChannels), null, c,
                GemmArgs.RowMajor(c.ColumnRows, g.InChannels, c.ColumnWidth));
        }
        parityInterleave.LaunchSplit(this, g.Batch * g.InHeight, (long)g.InWidth * g.InChannels / 8, classOutputs, inputGrad, g, filters);
    }

    /// <summary>The variant that runs a convolution layer: the plan's, where it fits the layer, else im2col + GEMM.</summary>
    public ConvVariant ConvVariantFor(ConvGeometry g, int filters) => ConvVariantFor(Plan, g, filters);

    /// <summary>The same from the plan alone, for working out a model's memory before it is built.</summary>
    public static ConvVariant ConvVariantFor(LaunchPlan plan, ConvGeometry g, int filters) => plan.Conv switch
    {
        ConvVariant.Im2Col => ConvVariant.Im2Col,
        ConvVariant.Implicit => ImplicitFits(g, filters) ? ConvVariant.Implicit : ConvVariant.Im2Col,
        ConvVariant.Winograd => WinogradFits(g) ? ConvVariant.Winograd : ConvVariant.Im2Col,
        _ => AutoConvVariant(g, filters),
    };

    /// <summary>
    /// The measured choice (docs/performance.md, Convolution variants): the implicit GEMM
    /// where the input channels are too few for im2col's eight-float copies (the first layer),
    /// im2col + GEMM elsewhere.
    /// </summary>
    static ConvVariant AutoConvVariant(ConvGeometry g, int filters) =>
        ImplicitFits(g, filters) && !g.Vectorized ? ConvVariant.Implicit : ConvVariant.Im2Col;

    readonly SplitKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ConvGeometry, PoolGeometry, GemmArgs> forwardMaxPool =
        new(Conv2dKernels.Conv2dForwardMaxPool, streams: true);

    /// <summary>The longest K (KH·KW·Cin) that Conv2dForwardMaxPool takes: a 3×3 kernel over RGB, a 5×5 one over grey.</summary>
    public const int ForwardMaxPoolMaxK = 32;

    /// <summary>
    /// Whether Conv2dForwardMaxPool takes a layer of geometry g and these filters with the pooling p
    /// over its output: no padding, filters in multiples of 16, K at most <see cref="ForwardMaxPoolMaxK"/>,
    /// 2×2 windows.
    /// </summary>
    public static bool ForwardMaxPoolFits(ConvGeometry g, int filters, PoolGeometry p) =>
        PoolsOutput(g, filters, p) && g.ColumnWidth <= ForwardMaxPoolMaxK;

    /// <summary>Whether p is a 2×2 max pooling over the output of an unpadded convolution of geometry g with these filters, in multiples of 16: the pairs the MaxPool kernels take.</summary>
    public static bool PoolsOutput(ConvGeometry g, int filters, PoolGeometry p) =>
        g.Padding == 0 && filters % 16 == 0 && p.Size == 2
        && p.Batch == g.Batch && p.InHeight == g.OutHeight && p.InWidth == g.OutWidth && p.Channels == filters;

    /// <summary>pooled, argmax = MaxPool2DForward(epilogue(conv(input, kernel) + bias)) for p, without the convolution's output.</summary>
    public void Conv2dForwardMaxPool(ArrayView<float> input, ArrayView<float> kernel, ArrayView<float>? bias, ArrayView<float> pooled,
        ArrayView<int> argmax, ConvGeometry g, PoolGeometry p, GemmArgs epilogue)
    {
        const string name = nameof(Conv2dForwardMaxPool);
        if (!ForwardMaxPoolFits(g, epilogue.N, p))
            throw new ArgumentException($"{name}: needs no padding, filters in multiples of 16, K = KH·KW·Cin of at most {ForwardMaxPoolMaxK} and a 2x2 pooling over the convolution's output.", nameof(g));
        RequireImage(name, "input", input, g);
        Require(name, "kernel", kernel, g.KernelHeight, g.KernelWidth, g.InChannels, epilogue.N);
        if (epilogue.AddBias != 0) Require(name, "bias", bias ?? default, epilogue.N);
        Require(name, "pooled", pooled, p.Batch, p.OutHeight, p.OutWidth, p.Channels);
        Require(name, "argmax", argmax, p.Batch, p.OutHeight, p.OutWidth, p.Channels);
        forwardMaxPool.LaunchSplit(this, p.OutputPixels, (long)p.ChannelGroups / 2 * g.ColumnWidth,
            input, kernel, bias ?? noBias.View, pooled, argmax, g, p, epilogue);
    }

    public void Conv2dForwardImplicit(ArrayView<float> input, ArrayView<float> kernel, ArrayView<float> output,
        ArrayView<float>? bias, ConvGeometry g, GemmArgs epilogue)
    {
        const string name = nameof(Conv2dForwardImplicit);
        Require(name, "kernel", kernel, g.KernelHeight, g.KernelWidth, g.InChannels, epilogue.N);
        ForwardImplicit(name, input, kernel, flip: 0, output, bias, g, epilogue);
    }

    /// <summary>
    /// output = epilogue(conv(input, W)) in the implicit GEMM's tile for g: W is kernel, or with
    /// flip = 1 the forward layer's kernel (K×K×N×Cin of g) turned 180° with its channel axes
    /// swapped. A register tile reads the zero-padded copy of the input and the flipped kernel
    /// from workspaces; a fused Winograd tile reads both as they are.
    /// </summary>
    void ForwardImplicit(string name, ArrayView<float> input, ArrayView<float> kernel, int flip, ArrayView<float> output,
        ArrayView<float>? bias, ConvGeometry g, GemmArgs epilogue)
    {
        RequireImage(name, "input", input, g);
        // Output pixels × filters, rows CRowStride apart as the GEMM epilogue writes them.
        RequireMatrix(name, "output", output, "output", g.ColumnRows, epilogue.N, epilogue.CRowStride);
        if (epilogue.AddBias != 0) Require(name, "bias", bias ?? default, epilogue.N);
        var biasView = bias ?? noBias.View;
        void Run(int tile)
        {
            if (IsWinogradTile(tile))
            {
                Conv2dWinogradFused(input, kernel, flip, output, biasView, g, epilogue, tile);
                return;
            }
            var source = PaddedInput(input, g, out var unpadded);
            var weights = kernel;
            if (flip != 0)
            {
                weights = Workspace((long)g.ColumnWidth * epilogue.N, Scratch.FlippedKernel);
                Conv2dKernelFlip(kernel, weights, g.KernelHeight, epilogue.N, g.InChannels);
            }
            // Threads own blocks of pixel tiles (each covering every filter).
            int tiles = (unpadded.ColumnRows + TileRows(tile) - 1) / TileRows(tile);
            int threads = Plan.RegisterTileThreads(tiles);
            long serial = Ceiling(tiles, threads) * (epilogue.N / TileFilters(tile)) * unpadded.ColumnWidth;
            convForwardImplicit[TileIndex(tile)].Launch(this, threads, serial, source, weights, output, biasView, unpadded, epilogue, threads);
        }
        Run(TileFor(name, g, epilogue.N, Run, WinogradFusedFits));
    }

    /// <summary>The weight gradient over every output pixel: in one pass on the CPU plan, else in chunks of pixels added by GemmSplitKReduce.</summary>
    public void Conv2dWeightGradImplicit(ArrayView<float> input, ArrayView<float> outputGrad, ArrayView<float> kernelGrad,
        ConvGeometry g, int filters)
    {
        const string name = nameof(Conv2dWeightGradImplicit);
        RequireImage(name, "input", input, g);
        Require(name, "outputGrad", outputGrad, g.Batch, g.OutHeight, g.OutWidth, filters);
        Require(name, "kernelGrad", kernelGrad, g.KernelHeight, g.KernelWidth, g.InChannels, filters);
        // Padding is skipped rather than copied where the kernel can (WeightGradRows.ReadsUnpadded).
        var over = g;
        var source = WeightGradRows.ReadsUnpadded(g) ? input : PaddedInput(input, g, out over);
        var sum = WeightGradSum(over, g.Stride * g.Stride * g.InChannels, filters);
        int rowChunk = sum.KChunk, chunks = (over.ColumnRows + rowChunk - 1) / rowChunk;
        void Run(int tile)
        {
            if (IsWinogradTile(tile))
            {
                Conv2dWinogradWeightGrad(input, outputGrad, kernelGrad, g, tile, Plan.WinogradWeightGradSplit(g, filters, WinogradSize(tile)));
                return;
            }
            if (IsKernelRowTile(tile))
            {
                Conv2dWeightGradKernelRow(input, outputGrad, kernelGrad, g, filters, tile, rowChunk);
                return;
            }
            var target = chunks == 1 ? kernelGrad : Workspace((long)chunks * sum.PartialStride);
            int items = new WeightGradItems(over, TileRows(tile), TileFilters(tile) / 8, filters / 8, rowChunk).Count;
            int threads = Plan.RegisterTileThreads(items);
            convWeightGradImplicit[TileIndex(tile)].Launch(this, threads, Ceiling(items, threads) * rowChunk,
                source, outputGrad, target, over, filters, rowChunk, sum.PartialStride, threads);
            if (chunks > 1) SplitKReduce(target, kernelGrad, noBias.View, sum);
        }
        Run(TileFor(name, over, filters, Run, WeightGradTileFits));
    }

    /// <summary>
    /// The split-K sum of an implicit weight gradient over geometry g (padded where it reads a
    /// padded copy) whose output pixels read inputFloats input floats and a row of dZ each: chunks
    /// of the plan's weight-gradient pixels (KChunk), each chunk's slab PartialStride floats apart.
    /// </summary>
    GemmArgs WeightGradSum(ConvGeometry g, int inputFloats, int filters)
    {
        int rowChunk = Plan.WeightGradChunkLength(g.ColumnRows, ((long)inputFloats + filters) * sizeof(float));
        return GemmArgs.RowMajor(g.ColumnWidth, filters, g.ColumnRows) with { KChunk = rowChunk, PartialStride = g.ColumnWidth * filters };
    }

    readonly Kernel<ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ConvGeometry, PoolGeometry, int, int, int>[] convWeightGradMaxPool =
    [
        new(Conv2dKernels.Conv2dWeightGradMaxPool<RegisterTile4>), new(Conv2dKernels.Conv2dWeightGradMaxPool<RegisterTile6>),
        new(Conv2dKernels.Conv2dWeightGradMaxPool<StackedTile<RegisterTile4, RegisterTile4>>),
        new(Conv2dKernels.Conv2dWeightGradMaxPool<StackedTile<RegisterTile6, RegisterTile6>>),
    ];

    /// <summary>
    /// dW = Conv2dWeightGradImplicit(input, MaxPool2DBackward(pooledGrad, argmax, pooled)) for the
    /// 2×2 pooling p over the convolution's output (<see cref="PoolsOutput"/>), without the
    /// pooling's dX: the same chunks, and the register tiles of 16 filters: the 12-row one where K
    /// (KH·KW·Cin) is at most 12, else measured per device.
    /// </summary>
    public void Conv2dWeightGradMaxPool(ArrayView<float> input, ArrayView<float> pooledGrad, ArrayView<int> argmax, ArrayView<float> pooled,
        ArrayView<float> kernelGrad, ConvGeometry g, PoolGeometry p)
    {
        const string name = nameof(Conv2dWeightGradMaxPool);
        int filters = p.Channels;
        if (!PoolsOutput(g, filters, p))
            throw new ArgumentException($"{name}: needs no padding, filters in multiples of 16 and a 2x2 pooling over the convolution's output.", nameof(g));
        RequireImage(name, "input", input, g);
        Require(name, "pooledGrad", pooledGrad, p.Batch, p.OutHeight, p.OutWidth, filters);
        Require(name, "argmax", argmax, p.Batch, p.OutHeight, p.OutWidth, filters);
        Require(name, "pooled", pooled, p.Batch, p.OutHeight, p.OutWidth, filters);
        Require(name, "kernelGrad", kernelGrad, g.KernelHeight, g.KernelWidth, g.InChannels, filters);
        var sum = WeightGradSum(g, g.Stride * g.Stride * g.InChannels, filters);
        int rowChunk = sum.KChunk, chunks = (g.ColumnRows + rowChunk - 1) / rowChunk;
        void Run(int tile)
        {
            var target = chunks == 1 ? kernelGrad : Workspace((long)chunks * sum.PartialStride);
            int items = new WeightGradItems(g, TileRows(tile), 2, filters / 8, rowChunk).Count;
            int threads = Plan.RegisterTileThreads(items);
            convWeightGradMaxPool[TileIndex(tile)].Launch(this, threads, Ceiling(items, threads) * rowChunk,
                input, pooledGrad, argmax, pooled, target, g, p, rowChunk, sum.PartialStride, threads);
            if (chunks > 1) SplitKReduce(target, kernelGrad, noBias.View, sum);
        }
        // A tile that holds all of K makes each pixel's dZ once for its 16 filters; shorter ones, once a row tile.
        Run(g.ColumnWidth <= TileRows(TallestTile16) && Plan.Tile == 0 && !DryRun ? TallestTile16
            : TileFor(name, g, filters, Run, static (_, _, _) => false, wide: false));
    }

    /// <summary>The register tile of 16 filters with the most rows: 12 × 16.</summary>
    const int TallestTile16 = 1216;

    /// <summary>Whether a pass tile runs this weight gradient: a Winograd tile where WinogradWeightGradFits, a kernel-row tile where KernelRowFits.</summary>
    static bool WeightGradTileFits(ConvGeometry g, int filters, int tile) =>
        IsKernelRowTile(tile) ? KernelRowFits(g, filters, tile) : WinogradWeightGradFits(g, filters, tile);

    /// <summary>
    /// Whether a kernel-row tile (one of <see cref="KernelRowTiles"/>) runs this weight gradient:
    /// kernels three taps wide, input channels in multiples of the tile's columns and filters in
    /// multiples of its rows.
    /// </summary>
    public static bool KernelRowFits(ConvGeometry g, int filters, int tile) =>
        KernelRowIndex(tile) >= 0 && g.KernelWidth == 3 && g.InChannels % TileFilters(tile) == 0 && filters % TileRows(tile) == 0;

    /// <summary>
    /// dW (KH×3×Cin×filters) by kernel rows in this tile (<see cref="KernelRowFits"/>): each
    /// chunk of rowChunk output pixels into its slab of a workspace, then
    /// Conv2dWeightGradKernelRowSum adds the slabs (on the CPU plan too, where one chunk takes them all).
    /// </summary>
    void Conv2dWeightGradKernelRow(ArrayView<float> input, ArrayView<float> outputGrad, ArrayView<float> kernelGrad,
        ConvGeometry g, int filters, int tile, int rowChunk)
    {
        if (!KernelRowFits(g, filters, tile))
            throw new ArgumentException($"{nameof(Conv2dWeightGradKernelRow)}: {TileName(tile)} does not run the weight gradient of {g.KernelHeight}x{g.KernelWidth}, {g.InChannels} channels, {filters} filters.", nameof(tile));
        int chunks = (g.ColumnRows + rowChunk - 1) / rowChunk, slab = g.ColumnWidth * filters;
        int tiles = g.KernelHeight * (g.InChannels / TileFilters(tile)) * (filters / TileRows(tile));
        var partials = Workspace((long)chunks * slab);
        int threads = Plan.RegisterTileThreads(tiles * chunks);
        convWeightGradKernelRow[KernelRowIndex(tile)].Launch(this, threads, Ceiling(tiles * chunks, threads) * rowChunk * 3,
            input, outputGrad, partials, g, filters, rowChunk, threads);
        weightGradKernelRowSum.LaunchSplit(this, slab, chunks, partials, kernelGrad, g.InChannels, filters, chunks);
    }

    /// <summary>A kernel-row tile's place in <see cref="KernelRowTiles"/>, or -1; no allocation, as it runs on every launch.</summary>
    static int KernelRowIndex(int tile)
    {
        for (int i = 0; i < KernelRowTiles.Count; i++)
            if (KernelRowTiles[i] == tile) return i;
        return -1;
    }

    /// <summary>The kernel arrays' index of a tile; no allocation, as it runs on every launch.</summary>
    static int TileIndex(int tile)
    {
        for (int i = 0; i < Tiles.Count; i++)
            if (Tiles[i] == tile) return i;
        throw new ArgumentException($"no register tile {tile}; there are {string.Join(", ", Tiles)}", nameof(tile));
    }

    /// <summary>
    /// The tile of an implicit convolution with this many filters: the plan's (or, where its
    /// filters do not divide them, or it is a fused Winograd tile that the pass or the shape does
    /// not take, the register tile of as many rows that fits), or where the plan leaves it to
    /// measurement (0), the device's measured choice for this kernel and shape among the tiles that
    /// fit (KernelTuner), measured with <paramref name="run"/> on first use. Winograd and
    /// kernel-row tiles are candidates where <paramref name="passTileFits"/> says they take this pass and shape;
    /// the tiles of 32 filters where <paramref name="wide"/> (a kernel that takes only 16 filters a tile says not).
    /// A dry run measures nothing.
    /// </summary>
    int TileFor(string kernel, ConvGeometry g, int filters, Action<int> run, Func<ConvGeometry, int, int, bool> passTileFits, bool wide = true)
    {
        if (Plan.Tile != 0)
        {
            if (Plan.Tile >= WinogradTile && passTileFits(g, filters, Plan.Tile)) return Plan.Tile;
            int tile = RegisterTileOf(Plan.Tile);
            return TileFilters(tile) == 16 || wide && filters % TileFilters(tile) == 0 ? tile : Tile(TileRows(tile), 16);
        }
        if (DryRun || tuner is null) return Tiles[0];
        int mask = 0;
        for (int i = 0; i < PassTiles.Count; i++)
            if (passTileFits(g, filters, PassTiles[i])) mask |= 1 << i;
        var candidates = CandidatesFor(mask, wide && filters % 32 == 0);
        return tuner.Choose($"{kernel} {g.Batch}x{g.InHeight}x{g.InWidth}x{g.InChannels} {g.KernelHeight}x{g.KernelWidth}/{g.Stride}"
            + (g.Padding > 0 ? $" pad {g.Padding}" : "") + $" {filters} filters",
            candidates, run);
    }
}
