using GpuCnn.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuCnn.Devices;

/// <summary>Launchers of Conv2dKernels: im2col and col2im, the implicit-GEMM kernels, and the choice of a layer's variant.</summary>
public sealed partial class KernelLauncher
{
    Action<Index1D, ArrayView<float>, ArrayView<float>, ConvGeometry, WorkSplit>? im2col, col2im;
    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvGeometry, GemmArgs, int>? convForwardImplicit;
    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvGeometry, int, int, int, int>? convWeightGradImplicit;

    public void Im2Col(ArrayView<float> input, ArrayView<float> columns, ConvGeometry g)
    {
        var split = Plan.Split(g.ColumnRows);
        if (Launching(nameof(Conv2dKernels.Conv2dIm2Col), split.Threads, (long)split.Chunk * g.KernelHeight * g.KernelWidth * g.ChannelGroups))
            Load(ref im2col, Conv2dKernels.Conv2dIm2Col)(split.Threads, input, columns, g, split);
    }

    public void Col2Im(ArrayView<float> columnGrad, ArrayView<float> inputGrad, ConvGeometry g)
    {
        var split = Plan.Split(g.InputPixels);
        if (Launching(nameof(Conv2dKernels.Conv2dCol2Im), split.Threads, (long)split.Chunk * g.KernelHeight * g.KernelWidth * g.ChannelGroups))
            Load(ref col2im, Conv2dKernels.Conv2dCol2Im)(split.Threads, columnGrad, inputGrad, g, split);
    }

    /// <summary>Whether the implicit-GEMM kernels run a convolution: unpadded, filters in multiples of 16.</summary>
    public static bool ImplicitFits(ConvGeometry g, int filters) => g.Padding == 0 && filters % GemmKernels.TileCols == 0;

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
    /// The measured choice (README, Performance: the convolution variants): the implicit GEMM
    /// where the input channels are too few for im2col's eight-float copies (the first layer),
    /// im2col + GEMM elsewhere.
    /// </summary>
    static ConvVariant AutoConvVariant(ConvGeometry g, int filters) =>
        ImplicitFits(g, filters) && !g.Vectorized ? ConvVariant.Implicit : ConvVariant.Im2Col;

    public void Conv2dForwardImplicit(ArrayView<float> input, ArrayView<float> kernel, ArrayView<float> output,
        ArrayView<float>? bias, ConvGeometry g, GemmArgs epilogue)
    {
        // Threads own blocks of pixel tiles (each covering every filter).
        int tiles = (g.ColumnRows + GemmKernels.TileRows - 1) / GemmKernels.TileRows;
        int threads = Plan.RegisterTileThreads(tiles);
        long serial = Ceiling(tiles, threads) * (epilogue.N / GemmKernels.TileCols) * g.ColumnWidth;
        if (Launching(nameof(Conv2dKernels.Conv2dForwardImplicit), threads, serial))
            Load(ref convForwardImplicit, Conv2dKernels.Conv2dForwardImplicit)
                (threads, input, kernel, output, bias ?? noBias.View, g, epilogue, threads);
    }

    /// <summary>The weight gradient over every output pixel: in one pass on the CPU plan, else in chunks of pixels added by GemmSplitKReduce.</summary>
    public void Conv2dWeightGradImplicit(ArrayView<float> input, ArrayView<float> outputGrad, ArrayView<float> kernelGrad,
        ConvGeometry g, int filters)
    {
        int chunks = Plan.Chunks(g.ColumnRows), rowChunk = Plan.ChunkLength(g.ColumnRows);
        var sum = GemmArgs.RowMajor(g.ColumnWidth, filters, g.ColumnRows) with { KChunk = rowChunk, PartialStride = g.ColumnWidth * filters };
        var target = chunks == 1 ? kernelGrad : Workspace((long)chunks * sum.PartialStride);
        int tiles = (g.ColumnWidth + GemmKernels.TileRows - 1) / GemmKernels.TileRows * (filters / GemmKernels.TileCols);
        int threads = Plan.RegisterTileThreads(tiles * chunks);
        if (Launching(nameof(Conv2dKernels.Conv2dWeightGradImplicit), threads, Ceiling(tiles * chunks, threads) * rowChunk))
            Load(ref convWeightGradImplicit, Conv2dKernels.Conv2dWeightGradImplicit)
                (threads, input, outputGrad, target, g, filters, rowChunk, sum.PartialStride, threads);
        if (chunks > 1) SplitKReduce(target, kernelGrad, noBias.View, sum);
    }
}
