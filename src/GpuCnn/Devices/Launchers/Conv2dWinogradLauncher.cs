using GpuCnn.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuCnn.Devices;

/// <summary>Launchers of Conv2dWinogradKernels: F(2×2, 3×3) as three transforms around 16 GEMMs.</summary>
public sealed partial class KernelLauncher
{
    Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, WorkSplit>? winogradFilter;
    Action<Index1D, ArrayView<float>, ArrayView<float>, ConvGeometry, WorkSplit>? winogradInput;
    Action<Index1D, ArrayView<float>, ArrayView<float>, ConvGeometry>? winogradInputPerItem;
    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvGeometry, GemmArgs, WorkSplit>? winogradOutput;
    Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ConvGeometry, GemmArgs>? winogradOutputPerItem;

    /// <summary>Whether Winograd F(2×2, 3×3) runs a convolution's forward and input-gradient passes: 3×3, stride 1, padding 0-2.</summary>
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
        int filters = epilogue.N, tiles = Conv2dWinogradKernels.Tiles(g);
        long pairs = (long)g.InChannels * filters, inputStride = (long)tiles * g.InChannels, productStride = (long)tiles * filters;
        var transformedKernel = Workspace(16 * pairs, Scratch.WinogradFilter);
        var transformedInput = Workspace(16 * inputStride, Scratch.WinogradInput);
        var product = Workspace(16 * productStride, Scratch.WinogradProduct);

        var split = Plan.Split((int)pairs);
        if (Launching(nameof(Conv2dWinogradKernels.Conv2dWinogradFilter), split.Threads, split.Chunk))
            Load(ref winogradFilter, Conv2dWinogradKernels.Conv2dWinogradFilter)
                (split.Threads, kernel, transformedKernel, flip == 0 ? g.InChannels : filters, flip == 0 ? filters : g.InChannels, flip, split);
        if (Plan.IsCpu)
        {
            split = Plan.Split((int)inputStride);
            if (Launching(nameof(Conv2dWinogradKernels.Conv2dWinogradInput), split.Threads, split.Chunk))
                Load(ref winogradInput, Conv2dWinogradKernels.Conv2dWinogradInput)(split.Threads, input, transformedInput, g, split);
        }
        else if (Launching(nameof(Conv2dWinogradKernels.Conv2dWinogradInputPerItem), inputStride, 1))
            Load(ref winogradInputPerItem, Conv2dWinogradKernels.Conv2dWinogradInputPerItem)((int)inputStride, input, transformedInput, g);
        // M_e = V_e · U_e: tiles × Cin times Cin × filters, for each of the 16 elements of a tile.
        var perElement = GemmArgs.RowMajor(tiles, filters, g.InChannels);
        for (int e = 0; e < 16; e++)
            Gemm(transformedInput.SubView(e * inputStride, inputStride), transformedKernel.SubView(e * pairs, pairs),
                product.SubView(e * productStride, productStride), null, perElement);
        if (Plan.IsCpu)
        {
            split = Plan.Split((int)productStride);
            if (Launching(nameof(Conv2dWinogradKernels.Conv2dWinogradOutput), split.Threads, split.Chunk))
                Load(ref winogradOutput, Conv2dWinogradKernels.Conv2dWinogradOutput)
                    (split.Threads, product, output, bias ?? noBias.View, g, epilogue, split);
        }
        else if (Launching(nameof(Conv2dWinogradKernels.Conv2dWinogradOutputPerItem), productStride, 1))
            Load(ref winogradOutputPerItem, Conv2dWinogradKernels.Conv2dWinogradOutputPerItem)
                ((int)productStride, product, output, bias ?? noBias.View, g, epilogue);
    }
}
