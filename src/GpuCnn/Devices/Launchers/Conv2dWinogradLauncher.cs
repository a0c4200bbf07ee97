using GpuCnn.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuCnn.Devices;

/// <summary>Launchers of Conv2dWinogradKernels: F(2×2, 3×3) as three transforms around 16 GEMMs, or F(2×2, 3×3) and F(4×4, 3×3) fused into one kernel.</summary>
public sealed partial class KernelLauncher
{
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, int, int, int> winogradFilter =
        new(Conv2dWinogradKernels.Conv2dWinogradFilter<WinogradF2>, streams: true);
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, int, int, int> winograd4Filter =
        new(Conv2dWinogradKernels.Conv2dWinogradFilter<WinogradF4>, streams: true);
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, ConvGeometry> winogradInput = new(Conv2dWinogradKernels.Conv2dWinogradInput);
    readonly Kernel<ArrayView<float>, ArrayView<float>, ConvGeometry> winogradInputPerItem = new(Conv2dWinogradKernels.Conv2dWinogradInputPerItem);
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvGeometry, GemmArgs> winogradOutput = new(Conv2dWinogradKernels.Conv2dWinogradOutput);
    readonly Kernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvGeometry, GemmArgs> winogradOutputPerItem =
        new(Conv2dWinogradKernels.Conv2dWinogradOutputPerItem);
    /// <summary>The fused F(2×2, 3×3) and F(4×4, 3×3) kernels with each register tile, in the order of <see cref="Tiles"/>.</summary>
    readonly GroupedKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvGeometry, GemmArgs, int>[]
        winogradFused = FusedKernels<WinogradF2>(), winograd4Fused = FusedKernels<WinogradF4>();

    static GroupedKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvGeometry, GemmArgs, int>[] FusedKernels<TWinograd>()
        where TWinograd : struct, IWinogradTransform =>
    [
        new(Conv2dWinogradKernels.Conv2dWinogradFused<RegisterTile4, TWinograd>), new(Conv2dWinogradKernels.Conv2dWinogradFused<RegisterTile6, TWinograd>),
        new(Conv2dWinogradKernels.Conv2dWinogradFused<StackedTile<RegisterTile4, RegisterTile4>, TWinograd>),
        new(Conv2dWinogradKernels.Conv2dWinogradFused<StackedTile<RegisterTile6, RegisterTile6>, TWinograd>),
        new(Conv2dWinogradKernels.Conv2dWinogradFused<WideTile<RegisterTile4>, TWinograd>), new(Conv2dWinogradKernels.Conv2dWinogradFused<WideTile<RegisterTile6>, TWinograd>),
        new(Conv2dWinogradKernels.Conv2dWinogradFused<WideTile<StackedTile<RegisterTile4, RegisterTile4>>, TWinograd>),
    ];

    /// <summary>The Winograd weight gradients of F(3×3, 2×2) and F(3×3, 4×4) with each register tile, in the order of <see cref="Tiles"/>.</summary>
    readonly GroupedKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvGeometry, WinogradWeightGradSplit>[]
        winogradWeightGrad = WeightGradKernels<WinogradF2>(), winograd4WeightGrad = WeightGradKernels<WinogradF4>();
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, int, int> winogradKernelGrad =
        new(Conv2dWinogradKernels.Conv2dWinogradKernelGrad<WinogradF2>, streams: true);
    readonly SplitKernel<ArrayView<float>, ArrayView<float>, int, int> winograd4KernelGrad =
        new(Conv2dWinogradKernels.Conv2dWinogradKernelGrad<WinogradF4>, streams: true);

    static GroupedKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvGeometry, WinogradWeightGradSplit>[] WeightGradKernels<TWinograd>()
        where TWinograd : struct, IWinogradTransform =>
    [
        new(Conv2dWinogradKernels.Conv2dWinogradWeightGrad<RegisterTile4, TWinograd>), new(Conv2dWinogradKernels.Conv2dWinogradWeightGrad<RegisterTile6, TWinograd>),
        new(Conv2dWinogradKernels.Conv2dWinogradWeightGrad<StackedTile<RegisterTile4, RegisterTile4>, TWinograd>),
        new(Conv2dWinogradKernels.Conv2dWinogradWeightGrad<StackedTile<RegisterTile6, RegisterTile6>, TWinograd>),
        new(Conv2dWinogradKernels.Conv2dWinogradWeightGrad<WideTile<RegisterTile4>, TWinograd>),
        new(Conv2dWinogradKernels.Conv2dWinogradWeightGrad<WideTile<RegisterTile6>, TWinograd>),
        new(Conv2dWinogradKernels.Conv2dWinogradWeightGrad<WideTile<StackedTile<RegisterTile4, RegisterTile4>>, TWinograd>),
    ];

    /// <summary>Whether Winograd (F(2×2, 3×3) in three passes, or either transform fused) can run a convolution's forward and input-gradient passes: 3×3, stride 1, padding 0-2.</summary>
    public static bool WinogradFits(ConvGeometry g) =>
        g.KernelHeight == 3 && g.KernelWidth == 3 && g.Stride == 1 && g.Padding <= 2;

    /// <summary>
    /// output = epilogue(conv(input, kernel)) for a 3×3 stride-1 convolution of geometry g with
    /// epilogue.N filters. With flip = 1 the kernel (KH×KW×N×Cin of g, i.e. the forward layer's
    /// kernel) is turned 180° with its channel axes swapped: the input gradient's convolution.
    /// </summary>
    public void Conv2dWinograd(ArrayView<float> input, ArrayView<float> kernel, ArrayView<float> output, ArrayView<float>? bias,
        ConvGeometry g, GemmArgs epilogue, int flip)
    {
        int filters = epilogue.N, tiles = Conv2dWinogradKernels.Tiles(g, 2);
        const string name = nameof(Conv2dWinograd);
        RequireImage(name, "input", input, g);
        Require(name, "kernel", kernel, 3, 3, flip == 0 ? g.InChannels : filters, flip == 0 ? filters : g.InChannels);
        Require(name, "output", output, g.Batch, g.OutHeight, g.OutWidth, filters);
        if (epilogue.AddBias != 0) Require(name, "bias", bias ?? default, filters);
        int pairs = g.InChannels * filters, kernelStride = Conv2dWinogradKernels.FilterStride(pairs);
        long inputStride = (long)tiles * g.InChannels, productStride = (long)tiles * filters;
        var transformedKernel = WinogradFilter(kernel, flip, g.InChannels, filters, 2);
        var transformedInput = Workspace(16 * inputStride, Scratch.WinogradInput);
        var product = Workspace(16 * productStride, Scratch.WinogradProduct);

        if (Plan.ThreadsOwnBlocks) winogradInput.LaunchSplit(this, (int)inputStride, 1, input, transformedInput, g);
        else winogradInputPerItem.Launch(this, inputStride, 1, input, transformedInput, g);
        // M_e = V_e · U_e: tiles × Cin times Cin × filters, for each of the 16 elements of a tile.
        var perElement = GemmArgs.RowMajor(tiles, filters, g.InChannels);
        for (int e = 0; e < 16; e++)
            Gemm(transformedInput.SubView(e * inputStride, inputStride), transformedKernel.SubView(e * kernelStride, pairs),
                product.SubView(e * productStride, productStride), null, perElement);
        if (Plan.ThreadsOwnBlocks) winogradOutput.LaunchSplit(this, (int)productStride, 1, product, output, bias ?? noBias.View, g, epilogue);
        else winogradOutputPerItem.Launch(this, productStride, 1, product, output, bias ?? noBias.View, g, epilogue);
    }

    /// <summary>
    /// Whether a fused Winograd tile can run this implicit forward pass: 3×3, stride 1, padding
    /// 0-2, channels in multiples of 16 (its transforms take 16 at a time), filters in multiples of
    /// the tile's, and V and M in the kernel's shared memory.
    /// </summary>
    static bool WinogradFusedFits(ConvGeometry g, int filters, int tile) =>
        IsWinogradTile(tile) && WinogradFits(g) && g.InChannels % 16 == 0 && filters % TileFilters(tile) == 0
        && g.InChannels <= Conv2dWinogradKernels.FusedMaxChannels(WinogradElements(tile), TileRows(tile), TileFilters(tile));

    /// <summary>
    /// Whether a Winograd tile can run this weight gradient (Conv2dWinogradWeightGrad): 3×3, stride
    /// 1, padding 0-2, a tile that takes one element at a time, of 4 or 8 rows (its rows are
    /// channels, so they divide the channels), channels and filters in multiples of 16, and
    /// filters in multiples of the tile's.
    /// </summary>
    public static bool WinogradWeightGradFits(ConvGeometry g, int filters, int tile) =>
        IsWinogradTile(tile) && !PairsElements(tile) && WinogradFits(g) && (TileRows(tile) == 4 || TileRows(tile) == 8)
        && g.InChannels % 16 == 0 && filters % 16 == 0 && filters % TileFilters(tile) == 0;

    /// <summary>
    /// dW (3×3×Cin×filters) of a 3×3 stride-1 convolution from its input and dZ, in F(3×3, m×m) of
    /// this Winograd tile (<see cref="WinogradWeightGradFits"/>): each chunk of the split's output
    /// tiles adds its products into a slab of a workspace (one work-item, a group of one, each),
    /// then Conv2dWinogradKernelGrad adds the slabs and transforms them into the taps.
    /// </summary>
    public void Conv2dWinogradWeightGrad(ArrayView<float> input, ArrayView<float> outputGrad, ArrayView<float> kernelGrad,
        ConvGeometry g, int tile, WinogradWeightGradSplit split)
    {
        const string name = nameof(Conv2dWinogradWeightGrad);
        int filters = split.Filters;
        if (!IsWinogradTile(tile) || !WinogradWeightGradFits(g, filters, tile))
            throw new ArgumentException($"{name}: {TileName(tile)} does not run the weight gradient of {g.KernelHeight}x{g.KernelWidth}/{g.Stride}, {g.InChannels} channels, {filters} filters.", nameof(tile));
        int size = WinogradSize(tile), elements = Conv2dWinogradKernels.Elements(size), tiles = Conv2dWinogradKernels.Tiles(g, size);
        // Every chunk takes at least one tile: a chunk of none would leave its slab unwritten.
        if (split.Batch < 1 || split.Chunks < 1 || split.TilesPerChunk % split.Batch != 0
            || (long)split.Chunks * split.TilesPerChunk < tiles || (long)(split.Chunks - 1) * split.TilesPerChunk >= tiles)
            throw new ArgumentException($"{name}: {split.Chunks} chunks of {split.TilesPerChunk} tiles in batches of {split.Batch} do not cover {tiles} tiles.", nameof(split));
        RequireImage(name, "input", input, g);
        Require(name, "outputGrad", outputGrad, g.Batch, g.OutHeight, g.OutWidth, filters);
        Require(name, "kernelGrad", kernelGrad, 3, 3, g.InChannels, filters);
        int pairs = g.InChannels * filters;
        var workspace = Workspace((long)split.Chunks * elements * split.Batch * (g.InChannels + filters), Scratch.WinogradInput);
        var products = Workspace((long)split.Chunks * elements * pairs, Scratch.WinogradProduct);
        (size == 4 ? winograd4WeightGrad : winogradWeightGrad)[TileIndex(RegisterTileOf(tile))].Launch(this, new KernelConfig(split.Chunks, 1),
            (long)elements * split.TilesPerChunk * (g.InChannels / TileRows(tile)) * (filters / TileFilters(tile)),
            input, outputGrad, workspace, products, g, split);
        (size == 4 ? winograd4KernelGrad : winogradKernelGrad).LaunchSplit(this, pairs / 8, (long)elements * split.Chunks,
            products, kernelGrad, pairs, split.Chunks);
    }

    /// <summary>The transformed tile's elements of a fused Winograd tile: (m+2)².</summary>
    static int WinogradElements(int tile) => Conv2dWinogradKernels.Elements(WinogradSize(tile));

    /// <summary>
    /// output = epilogue(conv(input, kernel)) for a 3×3 stride-1 convolution (flip as
    /// Conv2dWinograd takes it), in the fused Winograd kernel of this tile
    /// (<see cref="WinogradFusedFits"/>): the kernel's transform U (elements × Cin × filters) into a
    /// workspace, then one work-item (a group of one) per block of TileRows(tile) output tiles.
    /// </summary>
    void Conv2dWinogradFused(ArrayView<float> input, ArrayView<float> kernel, int flip, ArrayView<float> output, ArrayView<float> bias,
        ConvGeometry g, GemmArgs epilogue, int tile)
    {
        int filters = epilogue.N, size = WinogradSize(tile);
        var transformedKernel = WinogradFilter(kernel, flip, g.InChannels, filters, size);
        int blocks = (int)Ceiling(Conv2dWinogradKernels.Tiles(g, size), TileRows(tile));
        var config = new KernelConfig(blocks, 1);
        var kernels = size == 4 ? winograd4Fused : winogradFused;
        kernels[TileIndex(RegisterTileOf(tile))].Launch(this, config, (long)WinogradElements(tile) * g.InChannels * (filters / TileFilters(tile)),
            input, transformedKernel, output, bias, g, epilogue, PairsElements(tile) ? 1 : 0);
    }

    /// <summary>
    /// U (an F(size×size, 3×3) kernel's elements: slabs of Cin × filters, FilterStride apart) of a
    /// 3×3 kernel, in the workspace, for a convolution of Cin channels into filters (flip as
    /// Conv2dWinograd takes it).
    /// </summary>
    ArrayView<float> WinogradFilter(ArrayView<float> kernel, int flip, int inChannels, int filters, int size)
    {
        int pairs = inChannels * filters, stride = Conv2dWinogradKernels.FilterStride(pairs);
        var transformed = Workspace((long)Conv2dWinogradKernels.Elements(size) * stride, Scratch.WinogradFilter);
        (size == 4 ? winograd4Filter : winogradFilter).LaunchSplit(this, stride / 8, 1,
            kernel, transformed, flip == 0 ? inChannels : filters, flip == 0 ? filters : inChannels, flip);
        return transformed;
    }
}
