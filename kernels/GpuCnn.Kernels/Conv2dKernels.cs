using ILGPU;

namespace GpuCnn.Kernels;

/// <summary>Geometry of a 2-D convolution over NHWC tensors with a KH×KW×Cin×Cout kernel.</summary>
public struct ConvGeometry
{
    public int Batch, InHeight, InWidth, InChannels;
    public int KernelHeight, KernelWidth, Stride, Padding;
    public int OutHeight, OutWidth;

    public ConvGeometry(int batch, int inHeight, int inWidth, int inChannels, int kernelHeight, int kernelWidth,
        int stride, int padding)
    {
        Batch = batch; InHeight = inHeight; InWidth = inWidth; InChannels = inChannels;
        KernelHeight = kernelHeight; KernelWidth = kernelWidth; Stride = stride; Padding = padding;
        OutHeight = (inHeight + 2 * padding - kernelHeight) / stride + 1;
        OutWidth = (inWidth + 2 * padding - kernelWidth) / stride + 1;
    }

    /// <summary>Rows of the im2col matrix: one per output pixel.</summary>
    public readonly int ColumnRows => Batch * OutHeight * OutWidth;

    /// <summary>Columns of the im2col matrix: one per (kh, kw, cin), Keras's kernel order.</summary>
    public readonly int ColumnWidth => KernelHeight * KernelWidth * InChannels;

    public readonly int InputPixels => Batch * InHeight * InWidth;
}

/// <summary>
/// Convolution as lowering plus GEMM. Forward: Conv2dIm2Col lays each output pixel's receptive
/// field out as one row, then a GEMM with the (KH·KW·Cin)×Cout kernel gives the NHWC output (bias
/// and ReLU fused into its epilogue). Backward: the weight gradient is colᵀ·dY and the column
/// gradient dY·Wᵀ (GEMMs), which Conv2dCol2Im folds back onto the input pixels. Zero padding and
/// stride are handled here, so the GEMM never sees them.
/// </summary>
public static class Conv2dKernels
{
    /// <summary>
    /// col[r, (kh,kw,c)] = x[n, oy*s-p+kh, ox*s-p+kw, c], or 0 outside the image. Items are rows r
    /// (output pixels). Channels are copied in groups of eight when Cin is a multiple of 8 (one
    /// view access per group, see Float8), else one by one. The pixel position advances
    /// incrementally and rows of taps outside the image are skipped whole: with one input channel
    /// (the first layer) that bookkeeping, not the copying, is most of the cost.
    /// </summary>
    public static void Conv2dIm2Col(Index1D thread, ArrayView<float> input, ArrayView<float> columns,
        ConvGeometry g, WorkSplit split)
    {
        int start = split.Start(thread), end = split.End(thread);
        if (start >= end) return;
        int lanes = g.InChannels % 8 == 0 ? 8 : 1;
        int groups = g.InChannels / lanes;
        int tapsPerRow = g.KernelWidth * groups;
        var input8 = input.Cast<Float8>();
        var columns8 = columns.Cast<Float8>();
        Float8 zero = default;
        var at = new PixelIndex(start, g.OutHeight, g.OutWidth);
        int n = at.Image, oy = at.Y, ox = at.X;
        for (int row = start; row < end; row++)
        {
            int dst = row * g.ColumnWidth / lanes;
            for (int kh = 0; kh < g.KernelHeight; kh++)
            {
                int iy = oy * g.Stride - g.Padding + kh;
                if (iy < 0 || iy >= g.InHeight)
                {
                    for (int t = 0; t < tapsPerRow; t++)
                    {
                        if (lanes == 8) columns8[dst + t] = zero;
                        else columns[dst + t] = 0f;
                    }
                    dst += tapsPerRow;
                    continue;
                }
                int rowStart = (n * g.InHeight + iy) * g.InWidth;
                for (int kw = 0; kw < g.KernelWidth; kw++)
                {
                    int ix = ox * g.Stride - g.Padding + kw;
                    bool inside = ix >= 0 && ix < g.InWidth;
                    int src = (rowStart + ix) * groups;
                    for (int c = 0; c < groups; c++)
                    {
                        if (lanes == 8) columns8[dst + c] = inside ? input8[src + c] : zero;
                        else columns[dst + c] = inside ? input[src + c] : 0f;
                    }
                    dst += groups;
                }
            }
            // Next output pixel: column, then row, then image.
            if (++ox == g.OutWidth)
            {
                ox = 0;
                if (++oy == g.OutHeight)
                {
                    oy = 0;
                    n++;
                }
            }
        }
    }

    /// <summary>
    /// dX[n,iy,ix,c] = Σ over kernel taps (kh,kw) that see this pixel of dCol[(n,oy,ox), (kh,kw,c)].
    /// A gather over input pixels, so no two threads write the same element and no atomics are
    /// needed. Items are input pixels.
    /// </summary>
    public static void Conv2dCol2Im(Index1D thread, ArrayView<float> columnGrad, ArrayView<float> inputGrad,
        ConvGeometry g, WorkSplit split)
    {
        int end = split.End(thread);
        int lanes = g.InChannels % 8 == 0 ? 8 : 1;
        int groups = g.InChannels / lanes;
        int widthInGroups = g.ColumnWidth / lanes;
        var columnGrad8 = columnGrad.Cast<Float8>();
        var inputGrad8 = inputGrad.Cast<Float8>();
        for (int pixel = split.Start(thread); pixel < end; pixel++)
        {
            var at = new PixelIndex(pixel, g.InHeight, g.InWidth);
            int ix = at.X, iy = at.Y, n = at.Image;
            for (int c = 0; c < groups; c++)
            {
                Float8 sum8 = default;
                float sum = 0f;
                for (int kh = 0; kh < g.KernelHeight; kh++)
                {
                    int ty = iy + g.Padding - kh;
                    int oy = ty / g.Stride;
                    if (ty < 0 || ty % g.Stride != 0 || oy >= g.OutHeight) continue;
                    for (int kw = 0; kw < g.KernelWidth; kw++)
                    {
                        int tx = ix + g.Padding - kw;
                        int ox = tx / g.Stride;
                        if (tx < 0 || tx % g.Stride != 0 || ox >= g.OutWidth) continue;
                        int src = ((n * g.OutHeight + oy) * g.OutWidth + ox) * widthInGroups
                                  + (kh * g.KernelWidth + kw) * groups + c;
                        if (lanes == 8) sum8.Add(columnGrad8[src]);
                        else sum += columnGrad[src];
                    }
                }
                if (lanes == 8) inputGrad8[pixel * groups + c] = sum8;
                else inputGrad[pixel * groups + c] = sum;
            }
        }
    }
}
