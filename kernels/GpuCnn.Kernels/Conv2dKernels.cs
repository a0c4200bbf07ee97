using ILGPU;
using ILGPU.Algorithms;

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

    /// <summary>Channels go eight at a time (Float8) when their count is a multiple of 8.</summary>
    public readonly bool Vectorized => InChannels % 8 == 0;

    /// <summary>Groups of eight input channels, or single channels.</summary>
    public readonly int ChannelGroups => Vectorized ? InChannels / 8 : InChannels;

    /// <summary>The same convolution over the zero-padded input (H+2p, W+2p), with no padding of its own: the same output.</summary>
    public readonly ConvGeometry OverPaddedInput =>
        new(Batch, InHeight + 2 * Padding, InWidth + 2 * Padding, InChannels, KernelHeight, KernelWidth, Stride, 0);
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
        int lanes = g.Vectorized ? 8 : 1;
        int groups = g.ChannelGroups;
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
            PixelIndex.Next(ref n, ref oy, ref ox, g.OutHeight, g.OutWidth);
        }
    }

    /// <summary>
    /// dX[n,iy,ix,c] = Σ over kernel taps (kh,kw) that see this pixel of dCol[(n,oy,ox), (kh,kw,c)].
    /// A gather over input pixels, so no two threads write the same element and no atomics are
    /// needed. Items are segments of <paramref name="segment"/> pixels of an input row (n, iy): the
    /// row's taps and output row are worked out once, and along the row the first tap and output
    /// column are stepped, not divided for. The taps that see a pixel are kh ≡ iy + p (mod stride),
    /// kh rising as oy falls; the terms are added in the same (kh, kw) order on every plan.
    /// </summary>
    public static void Conv2dCol2Im(Index1D thread, ArrayView<float> columnGrad, ArrayView<float> inputGrad,
        ConvGeometry g, int segment, WorkSplit split)
    {
        int end = split.End(thread);
        int lanes = g.Vectorized ? 8 : 1;
        int groups = g.ChannelGroups;
        int widthInGroups = g.ColumnWidth / lanes;
        int segments = (g.InWidth + segment - 1) / segment;
        var columnGrad8 = columnGrad.Cast<Float8>();
        var inputGrad8 = inputGrad.Cast<Float8>();
        for (int item = split.Start(thread); item < end; item++)
        {
            int row = item / segments, x0 = item % segments * segment, x1 = XMath.Min(x0 + segment, g.InWidth);
            int n = row / g.InHeight, ty = row % g.InHeight + g.Padding;
            int khFirst = ty % g.Stride, oyFirst = ty / g.Stride;
            int imageRow = n * g.OutHeight;
            int tx = x0 + g.Padding, kwFirst = tx % g.Stride, oxFirst = tx / g.Stride;
            for (int pixel = row * g.InWidth + x0; pixel < row * g.InWidth + x1; pixel++)
            {
                for (int c = 0; c < groups; c++)
                {
                    Float8 sum8 = default;
                    float sum = 0f;
                    int oy = oyFirst;
                    for (int kh = khFirst; kh < g.KernelHeight && oy >= 0; kh += g.Stride, oy--)
                    {
                        if (oy >= g.OutHeight) continue;
                        int ox = oxFirst;
                        for (int kw = kwFirst; kw < g.KernelWidth && ox >= 0; kw += g.Stride, ox--)
                        {
                            if (ox >= g.OutWidth) continue;
                            int src = ((imageRow + oy) * g.OutWidth + ox) * widthInGroups + (kh * g.KernelWidth + kw) * groups + c;
                            if (lanes == 8) sum8.Add(columnGrad8[src]);
                            else sum += columnGrad[src];
                        }
                    }
                    if (lanes == 8) inputGrad8[pixel * groups + c] = sum8;
                    else inputGrad[pixel * groups + c] = sum;
                }
                // The next pixel's first tap column, and its output column.
                if (++kwFirst == g.Stride)
                {
                    kwFirst = 0;
                    oxFirst++;
                }
            }
        }
    }

    /// <summary>
    /// padded[n, y, x, c] = x[n, y - p, x - p, c] inside the image, else 0: the (B, H+2p, W+2p,
    /// Cin) copy over which the implicit-GEMM kernels run a padded convolution as an unpadded
    /// one, one pass over memory where im2col makes KH·KW. Items are segments of
    /// <paramref name="segment"/> pixels of a padded row (n, y): zeros left of the image, one
    /// contiguous copy, zeros right of it, with no test per pixel (a branch per pixel kept PoCL at
    /// 20 GB/s). Channels go eight at a time when Cin is a multiple of 8, as in Conv2dIm2Col.
    /// </summary>
    public static void Conv2dPad(Index1D thread, ArrayView<float> input, ArrayView<float> padded, ConvGeometry g,
        int segment, WorkSplit split)
    {
        int end = split.End(thread);
        bool vectorized = g.Vectorized;
        int groups = g.ChannelGroups, p = g.Padding;
        int paddedHeight = g.InHeight + 2 * p, paddedWidth = g.InWidth + 2 * p;
        int segments = (paddedWidth + segment - 1) / segment;
        var input8 = input.Cast<Float8>();
        var padded8 = padded.Cast<Float8>();
        for (int item = split.Start(thread); item < end; item++)
        {
            int row = item / segments, x0 = item % segments * segment, x1 = XMath.Min(x0 + segment, paddedWidth);
            int n = row / paddedHeight, iy = row % paddedHeight - p;
            bool inside = iy >= 0 && iy < g.InHeight;
            // Pixels [x0, left) and [right, x1) are border, [from, to) the image's.
            int left = inside ? XMath.Min(x1, p) : x1;
            int from = XMath.Max(x0, p), to = inside ? XMath.Min(x1, p + g.InWidth) : from;
            int right = inside ? XMath.Max(x0, p + g.InWidth) : x1;
            int rowStart = row * paddedWidth * groups;
            for (int i = x0 * groups; i < left * groups; i++) ZeroGroup(padded, padded8, rowStart + i, vectorized);
            int src = ((n * g.InHeight + iy) * g.InWidth - p) * groups;
            for (int i = from * groups; i < to * groups; i++)
            {
                if (vectorized) padded8[rowStart + i] = input8[src + i];
                else padded[rowStart + i] = input[src + i];
            }
            for (int i = right * groups; i < x1 * groups; i++) ZeroGroup(padded, padded8, rowStart + i, vectorized);
        }
    }

    /// <summary>Zeroes channel group i: eight floats of padded8, or one of padded.</summary>
    static void ZeroGroup(ArrayView<float> padded, ArrayView<Float8> padded8, int i, bool vectorized)
    {
        if (vectorized) padded8[i] = default;
        else padded[i] = 0f;
    }

    /// <summary>
    /// flipped[kh, kw, f, c] = kernel[K-1-kh, K-1-kw, c, f]: the K×K×Cin×Cout kernel turned 180°
    /// with its channel axes swapped. The input gradient of a stride-1 convolution is the
    /// convolution of dY, padded by K-1-p, with this kernel. Items are elements of flipped.
    /// </summary>
    public static void Conv2dKernelFlip(Index1D thread, ArrayView<float> kernel, ArrayView<float> flipped, int kernelSize,
        int inChannels, int filters, WorkSplit split)
    {
        int end = split.End(thread);
        for (int item = split.Start(thread); item < end; item++)
        {
            int c = item % inChannels, f = item / inChannels % filters, tap = item / (inChannels * filters);
            int source = kernelSize * kernelSize - 1 - tap;
            flipped[item] = kernel[(source * inChannels + c) * filters + f];
        }
    }

    /// <summary>
    /// The classes' kernels of <see cref="ParityClasses"/>: kernel[kh, kw, c, f] (K×K×Cin×filters)
    /// goes to class (ey, ex) of its taps as element [ry, rx, f, c], the channel axes swapped as the
    /// input gradient's convolution reads them. Items are elements of the kernel.
    /// </summary>
    public static void Conv2dParityKernels(Index1D thread, ArrayView<float> kernel, ArrayView<float> classKernels,
        ConvGeometry g, int filters, WorkSplit split)
    {
        var classes = new ParityClasses(g, filters);
        int end = split.End(thread);
        for (int item = split.Start(thread); item < end; item++)
        {
            int f = item % filters, c = item / filters % g.InChannels, tap = item / (filters * g.InChannels);
            int ey = classes.ClassOf(tap / g.KernelWidth, out int ry), ex = classes.ClassOf(tap % g.KernelWidth, out int rx);
            classKernels[classes.KernelOffset(2 * ey + ex) + ((ry * classes.Taps(ex) + rx) * filters + f) * g.InChannels + c] = kernel[item];
        }
    }

    /// <summary>
    /// dX from the classes' outputs of <see cref="ParityClasses"/>: pixel (n, iy, ix) is output pixel
    /// (n, iy/2 + pad, ix/2 + pad) of class (iy mod 2, ix mod 2), or 0 where that class sees no tap.
    /// Items are rows (n, iy) of dX, Cin in multiples of 8: each row takes from two classes, whose
    /// places are worked out once.
    /// </summary>
    public static void Conv2dParityInterleave(Index1D thread, ArrayView<float> classOutputs, ArrayView<float> inputGrad,
        ConvGeometry g, int filters, WorkSplit split)
    {
        var classes = new ParityClasses(g, filters);
        var outputs8 = classOutputs.Cast<Float8>();
        var inputGrad8 = inputGrad.Cast<Float8>();
        int groups = g.InChannels / 8, end = split.End(thread);
        for (int row = split.Start(thread); row < end; row++)
        {
            int n = row / g.InHeight, iy = row % g.InHeight, ey = iy % 2;
            for (int ex = 0; ex < 2; ex++)
            {
                long first = (long)row * g.InWidth * groups;
                if (!classes.Sees(ey, ex))
                {
                    for (int ix = ex; ix < g.InWidth; ix += 2)
                        for (int c = 0; c < groups; c++) inputGrad8[first + ix * groups + c] = default;
                    continue;
                }
                var cg = classes.Class(ey, ex);
                long from = classes.OutputOffset(2 * ey + ex) / 8
                    + ((long)(n * cg.OutHeight + iy / 2 + cg.Padding) * cg.OutWidth + cg.Padding) * groups;
                for (int ix = ex; ix < g.InWidth; ix += 2)
                    for (int c = 0; c < groups; c++) inputGrad8[first + ix * groups + c] = outputs8[from + ix / 2 * groups + c];
            }
        }
    }

    /// <summary>
    /// Forward pass without im2col, for unpadded convolutions (a padded one runs over its
    /// Conv2dPad copy) and, with a flipped kernel, the input gradient (of a stride-2 layer, with each
    /// parity class's kernel, ParityClasses). The GEMM of GemmRegisterTiled with A read
    /// straight from the image: each tile is TTile.Rows consecutive output pixels × 16 or 32 filters. With so
    /// short a K (9 for a 3×3 grey kernel), fixed costs per tile dominate, so each thread takes a
    /// contiguous block of pixel tiles and steps the pixel position instead of dividing for it.
    /// Needs filters in multiples of the tile's columns and no padding; the epilogue (bias, ReLU) is the GEMM's.
    /// </summary>
    public static void Conv2dForwardImplicit<TTile>(Index1D thread, ArrayView<float> input, ArrayView<float> kernel,
        ArrayView<float> output, ArrayView<float> bias, ConvGeometry g, GemmArgs epilogue, int threadCount)
        where TTile : struct, IRegisterTile
    {
        var kernel8 = kernel.Cast<Float8>();
        var output8 = output.Cast<Float8>();
        TTile tile = default;
        int tileRows = tile.Rows;
        int filters8 = epilogue.N / 8;
        int rows = g.ColumnRows;
        int pixelTiles = (rows + tileRows - 1) / tileRows;
        int perThread = (pixelTiles + threadCount - 1) / threadCount;
        int first = thread * perThread, end = XMath.Min(first + perThread, pixelTiles);
        if (first >= end) return;
        var at = new PixelIndex(first * tileRows, g.OutHeight, g.OutWidth);
        int n = at.Image, oy = at.Y, ox = at.X;
        for (int pixelTile = first; pixelTile < end; pixelTile++)
        {
            int row0 = pixelTile * tileRows;
            tile.BasesFromPixels(g, row0, rows, ref n, ref oy, ref ox);
            for (int col8 = 0; col8 < filters8; col8 += tile.Columns8)
            {
                ReceptiveField(ref tile, input, kernel8, g, col8, filters8);
                tile.Store(output8, bias, epilogue, row0 * filters8 + col8, filters8, col8, rows - row0);
            }
        }
    }

    /// <summary>
    /// Conv2dForwardImplicit with its epilogue (bias, ReLU), then PoolingKernels.MaxPool2DForward
    /// over 2×2 windows, in one pass, for a layer whose K (KH·KW·Cin) is short: the first layer of
    /// a grey or RGB image, whose output (the seed's: 26×26×32 floats an image, 9 multiply-adds
    /// each) costs more to write and read back than to compute. Items are pooled pixels (p's
    /// output); each is a 4-row register tile whose rows are the window's pixels, 32 filters at a
    /// time as two 4 × 16 tiles side by side, then 16, summed as the implicit GEMM sums them
    /// (ReceptiveField), so the pooled values and the argmax are the two passes' bit for bit. The
    /// layer's own output is not written. Needs no padding, filters (epilogue.N) in multiples of 16
    /// and p.Channels = filters.
    /// </summary>
    public static void Conv2dForwardMaxPool(Index1D thread, ArrayView<float> input, ArrayView<float> kernel, ArrayView<float> bias,
        ArrayView<float> pooled, ArrayView<int> argmax, ConvGeometry g, PoolGeometry p, GemmArgs epilogue, WorkSplit split)
    {
        int start = split.Start(thread), end = split.End(thread);
        var kernel8 = kernel.Cast<Float8>();
        var pooled8 = pooled.Cast<Float8>();
        var argmax8 = argmax.Cast<Int8>();
        RegisterTile4 tile = default;
        WideTile<RegisterTile4> wide = default;
        int filters8 = epilogue.N / 8, right = g.Stride * g.InChannels, below = g.Stride * g.InWidth * g.InChannels;
        var at = new PixelIndex(start, p.OutHeight, p.OutWidth);
        int n = at.Image, py = at.Y, px = at.X;
        for (int pixel = start; pixel < end; pixel++)
        {
            tile.BasesFromWindow(((n * g.InHeight + 2 * py * g.Stride) * g.InWidth + 2 * px * g.Stride) * g.InChannels, right, below);
            wide.BasesOf(tile);
            int col8 = 0;
            // 32 filters at a time where there are as many (the two halves share the window's
            // four broadcasts, 16 multiply-adds for them), then 16.
            for (; col8 + 4 <= filters8; col8 += 4)
            {
                ReceptiveField(ref wide, input, kernel8, g, col8, filters8);
                StoreWindowMax(wide.Left, pooled8, argmax8, bias, epilogue, pixel * filters8, col8);
                StoreWindowMax(wide.Right, pooled8, argmax8, bias, epilogue, pixel * filters8, col8 + 2);
            }
            if (col8 < filters8)
            {
                ReceptiveField(ref tile, input, kernel8, g, col8, filters8);
                StoreWindowMax(tile, pooled8, argmax8, bias, epilogue, pixel * filters8, col8);
            }
            PixelIndex.Next(ref n, ref py, ref px, p.OutHeight, p.OutWidth);
        }
    }

    /// <summary>A 2×2 window's maximum over the tile's rows (RegisterTile4.MaxOfRows) and its taps, 16 filters from col8·8 on, at pixel8 + col8.</summary>
    static void StoreWindowMax(in RegisterTile4 tile, ArrayView<Float8> pooled8, ArrayView<Int8> argmax8, ArrayView<float> bias, GemmArgs epilogue,
        int pixel8, int col8)
    {
        tile.MaxOfRows(bias, epilogue, col8, out var bestL, out var bestR, out var rowL, out var rowR);
        pooled8[pixel8 + col8] = bestL;
        pooled8[pixel8 + col8 + 1] = bestR;
        argmax8[pixel8 + col8] = rowL;
        argmax8[pixel8 + col8 + 1] = rowR;
    }

    /// <summary>
    /// The tile's rows (output pixels at its bases) over the whole receptive field, from zero, for
    /// the filters from col8·8 on. A receptive field's row (kh) is KW·Cin consecutive floats of the
    /// input, as its kernel rows (kh, kw, c) are consecutive rows of the kernel: one loop walks both.
    /// </summary>
    static void ReceptiveField<TTile>(ref TTile tile, ArrayView<float> input, ArrayView<Float8> kernel8, ConvGeometry g, int col8, int filters8)
        where TTile : struct, IRegisterTile
    {
        tile.Clear();
        int w = col8, rowLength = g.KernelWidth * g.InChannels;
        for (int kh = 0; kh < g.KernelHeight; kh++)
        {
            int row = kh * g.InWidth * g.InChannels;
            for (int j = row; j < row + rowLength; j++)
            {
                tile.MultiplyAdd(input, j, kernel8, w);
                w += filters8;
            }
        }
    }

    /// <summary>The input offset of the current output pixel's receptive-field corner; then steps to the next pixel.</summary>
    internal static int CornerAndStep(ConvGeometry g, ref int n, ref int oy, ref int ox)
    {
        int corner = ((n * g.InHeight + oy * g.Stride) * g.InWidth + ox * g.Stride) * g.InChannels;
        PixelIndex.Next(ref n, ref oy, ref ox, g.OutHeight, g.OutWidth);
        return corner;
    }

    /// <summary>
    /// Weight gradient without im2col, for the same layers as Conv2dForwardImplicit:
    /// dW[(kh,kw,c), f] = Σ over output pixels r of x[corner(r) + offset(kh,kw,c)] · dZ[r, f].
    /// Items are (chunk, tile) pairs: TTile.Rows kernel rows × 16 or 32 filters summed over the output pixels of
    /// one chunk of rowChunk pixels, in order, into the chunk's own slab (partialStride floats
    /// apart); with more than one chunk GemmSplitKReduce adds the slabs. One chunk of all pixels
    /// writes dW directly. Results depend neither on the thread count nor on the tile.
    /// With padding (<see cref="WeightGradRows.ReadsUnpadded"/>) x is read unpadded: a tile's rows
    /// are channels of one tap (a tap's last tile may hold fewer than TTile.Rows), and the pixels
    /// whose tap falls in the padding are skipped, as their terms are zeros.
    /// </summary>
    public static void Conv2dWeightGradImplicit<TTile>(Index1D thread, ArrayView<float> input, ArrayView<float> outputGrad,
        ArrayView<float> kernelGrad, ConvGeometry g, int filters, int rowChunk, int partialStride, int threadCount)
        where TTile : struct, IRegisterTile
    {
        var outputGrad8 = outputGrad.Cast<Float8>();
        var kernelGrad8 = kernelGrad.Cast<Float8>();
        TTile tile = default;
        int filters8 = filters / 8;
        var items = new WeightGradItems(g, tile.Rows, tile.Columns8, filters8, rowChunk);
        int pixelStep = g.Stride * g.InChannels;
        for (int item = thread; item < items.Count; item += threadCount)
        {
            items.Take(item, out int chunk, out int i0, out int rowEnd, out int kh, out int kw, out int col8);
            tile.BasesFromTaps(g, i0, rowEnd);
            tile.Clear();
            int oxFirst = TapBegin(g, kw), oxEnd = TapEnd(g, kw);
            int first = chunk * rowChunk;
            // Output rows at a time, so the innermost loop only steps two offsets: its pixels'
            // corners are pixelStep apart in the input and their dZ rows filters8 apart.
            for (var runs = new RowRuns(first, XMath.Min(g.ColumnRows, first + rowChunk), g.OutHeight, g.OutWidth); runs.More; runs.Next())
            {
                int n = runs.Image, oy = runs.Y, ox = runs.X, r = runs.Pixel, run = runs.Length;
                int iy = oy * g.Stride - g.Padding + kh;
                int from = XMath.Max(ox, oxFirst), to = iy < 0 || iy >= g.InHeight ? from : XMath.Min(ox + run, oxEnd);
                int corner = ((n * g.InHeight + oy * g.Stride - g.Padding) * g.InWidth + from * g.Stride - g.Padding) * g.InChannels;
                int d = (r + from - ox) * filters8 + col8;
                for (int k = from; k < to; k++)
                {
                    tile.MultiplyAdd(input, corner, outputGrad8, d);
                    corner += pixelStep;
                    d += filters8;
                }
            }
            // No epilogue: the raw sums, rows filters8 apart.
            tile.Store(kernelGrad8, kernelGrad, default, chunk * (partialStride / 8) + i0 * filters8 + col8, filters8, col8, rowEnd - i0);
        }
    }

    /// <summary>
    /// Conv2dWeightGradImplicit of a layer whose dZ is MaxPool2DBackward's over the 2×2 pooling p of
    /// its output (ReLU's mask included: the pair Conv2dForwardMaxPool runs), without dZ: each
    /// pixel's 16 values are made from the pooling's output gradient, taps and output as the tile
    /// takes them (PoolingKernels.WindowGradient). The seed's first layer writes no 26×26×32 floats an
    /// image, three in four of them zero, to read each back for 9 multiply-adds. Items, chunks and
    /// sums are Conv2dWeightGradImplicit's with a tile of 16 filters, so dW is its, bit for bit.
    /// Needs no padding and filters (p.Channels) in multiples of 16.
    /// </summary>
    public static void Conv2dWeightGradMaxPool<TTile>(Index1D thread, ArrayView<float> input, ArrayView<float> pooledGrad,
        ArrayView<int> argmax, ArrayView<float> pooled, ArrayView<float> kernelGrad, ConvGeometry g, PoolGeometry p,
        int rowChunk, int partialStride, int threadCount)
        where TTile : struct, IRegisterTile16
    {
        var pooledGrad8 = pooledGrad.Cast<Float8>();
        var argmax8 = argmax.Cast<Int8>();
        var pooled8 = pooled.Cast<Float8>();
        var kernelGrad8 = kernelGrad.Cast<Float8>();
        TTile tile = default;
        int filters8 = p.Channels / 8;
        var items = new WeightGradItems(g, tile.Rows, tile.Columns8, filters8, rowChunk);
        int pixelStep = g.Stride * g.InChannels;
        for (int item = thread; item < items.Count; item += threadCount)
        {
            items.Take(item, out int chunk, out int i0, out int rowEnd, out _, out _, out int col8);
            tile.BasesFromTaps(g, i0, rowEnd);
            tile.Clear();
            int first = chunk * rowChunk;
            for (var runs = new RowRuns(first, XMath.Min(g.ColumnRows, first + rowChunk), g.OutHeight, g.OutWidth); runs.More; runs.Next())
            {
                int corner = ((runs.Image * g.InHeight + runs.Y * g.Stride) * g.InWidth + runs.X * g.Stride) * g.InChannels;
                var window = new WindowRow(p, runs.Image, runs.Y);
                int ox = runs.X, end = ox + runs.Length, coveredEnd = window.CoveredEnd(ox, end);
                for (; ox < coveredEnd; ox++)
                {
                    int src = window.Source(ox, filters8) + col8, tap = window.Tap(ox);
                    tile.MultiplyAdd(input, corner,
                        PoolingKernels.WindowGradient(pooledGrad8, argmax8, pooled8, src, tap, p.ReluBefore),
                        PoolingKernels.WindowGradient(pooledGrad8, argmax8, pooled8, src + 1, tap, p.ReluBefore));
                    corner += pixelStep;
                }
                // Pixels no window covers (a dropped last row or column): dZ is 0 there, as MaxPool2DBackward writes it,
                // and multiplied in as the three passes do (an infinite input gives NaN in both).
                for (; ox < end; ox++)
                {
                    tile.MultiplyAdd(input, corner, default, default);
                    corner += pixelStep;
                }
            }
            tile.Store(kernelGrad8, kernelGrad, default, chunk * (partialStride / 8) + i0 * filters8 + col8, filters8, col8, rowEnd - i0);
        }
    }

    /// <summary>The first output column whose tap kw lands inside the image, ox·s - p + kw ≥ 0; 0 without padding.</summary>
    internal static int TapBegin(ConvGeometry g, int kw) => XMath.Max(0, (g.Padding - kw + g.Stride - 1) / g.Stride);

    /// <summary>The output column after the last whose tap kw lands inside the image, ox·s - p + kw &lt; W.</summary>
    internal static int TapEnd(ConvGeometry g, int kw) => XMath.Min(g.OutWidth, (g.InWidth - 1 + g.Padding - kw) / g.Stride + 1);

    /// <summary>
    /// Conv2dWeightGradImplicit by kernel rows, for kernels three taps wide with input channels in
    /// multiples of TTile.Columns8·8 and filters in multiples of TTile.Rows. An item takes one
    /// chunk, one kernel row kh, TTile.Rows filters and TTile.Columns8·8 channels, in one tile per
    /// tap of the row whose rows are filters and whose columns are channels:
    /// tile kw [f, c] += dZ[r, f] · x[corner(r) + (kh, kw), c]. A pixel's Rows values of dZ serve
    /// all three taps, and its three input pixels slide along the row, so the item's 3·Rows
    /// multiply-adds of 16 lanes read Rows + 3 values, where a direct tile's Rows read Rows + 1
    /// with 16 filters. x is read unpadded; a tap's pixels in the padding are skipped. Each item
    /// stores its slab transposed, partial[chunk, kh, kw, f, c], and
    /// Conv2dWeightGradKernelRowSum adds the slabs into dW: the sums are Conv2dWeightGradImplicit's,
    /// term for term and in the same order.
    /// </summary>
    public static void Conv2dWeightGradKernelRow<TTile>(Index1D thread, ArrayView<float> input, ArrayView<float> outputGrad,
        ArrayView<float> partials, ConvGeometry g, int filters, int rowChunk, int threadCount)
        where TTile : struct, IRegisterTile
    {
        var input8 = input.Cast<Float8>();
        var partials8 = partials.Cast<Float8>();
        TTile left = default, middle = default, right = default;
        int rows = left.Rows, columns8 = left.Columns8, channels8 = g.InChannels / 8;
        int filterBlocks = filters / rows, channelBlocks = channels8 / columns8;
        int tiles = g.KernelHeight * channelBlocks * filterBlocks;
        int chunks = (g.ColumnRows + rowChunk - 1) / rowChunk;
        int pixelStep8 = g.Stride * channels8;
        // The output columns where all three taps land inside the image: tap 0's first to tap 2's end.
        int inside = TapBegin(g, 0), insideEnd = TapEnd(g, 2);
        for (int item = thread; item < tiles * chunks; item += threadCount)
        {
            int chunk = item / tiles, t = item % tiles;
            int kh = t / (channelBlocks * filterBlocks), c8 = t / filterBlocks % channelBlocks * columns8, f0 = t % filterBlocks * rows;
            left.BasesFromStride(f0, 1);
            middle.BasesFromStride(f0, 1);
            right.BasesFromStride(f0, 1);
            left.Clear();
            middle.Clear();
            right.Clear();
            int first = chunk * rowChunk;
            for (var runs = new RowRuns(first, XMath.Min(g.ColumnRows, first + rowChunk), g.OutHeight, g.OutWidth); runs.More; runs.Next())
            {
                int n = runs.Image, oy = runs.Y, ox = runs.X, run = runs.Length;
                int iy = oy * g.Stride - g.Padding + kh;
                int to = iy < 0 || iy >= g.InHeight ? ox : ox + run;
                int lo = XMath.Min(XMath.Max(ox, inside), to), hi = XMath.Max(lo, XMath.Min(to, insideEnd));
                // Tap 0's input pixel at output column ox (left of the image where the padding holds it), in Float8s.
                int x8 = ((n * g.InHeight + iy) * g.InWidth + ox * g.Stride - g.Padding) * channels8 + c8;
                int d = runs.Pixel * filters;
                for (int k = ox; k < lo; k++, x8 += pixelStep8, d += filters)
                    KernelRowAtEdge(ref left, ref middle, ref right, g, k, outputGrad, d, input8, x8, channels8);
                for (int k = lo; k < hi; k++, x8 += pixelStep8, d += filters)
                {
                    left.MultiplyAdd(outputGrad, d, input8, x8);
                    middle.MultiplyAdd(outputGrad, d, input8, x8 + channels8);
                    right.MultiplyAdd(outputGrad, d, input8, x8 + 2 * channels8);
                }
                for (int k = hi; k < to; k++, x8 += pixelStep8, d += filters)
                    KernelRowAtEdge(ref left, ref middle, ref right, g, k, outputGrad, d, input8, x8, channels8);
            }
            // Slab rows are filters, g.InChannels floats apart.
            int slab8 = (chunk * g.KernelHeight + kh) * 3 * filters * channels8 + f0 * channels8 + c8, tap8 = filters * channels8;
            left.Store(partials8, partials, default, slab8, channels8, 0, rows);
            middle.Store(partials8, partials, default, slab8 + tap8, channels8, 0, rows);
            right.Store(partials8, partials, default, slab8 + 2 * tap8, channels8, 0, rows);
        }
    }

    /// <summary>One output column of Conv2dWeightGradKernelRow where a tap may land in the padding: only the taps inside the image add.</summary>
    static void KernelRowAtEdge<TTile>(ref TTile left, ref TTile middle, ref TTile right, ConvGeometry g, int ox,
        ArrayView<float> outputGrad, int d, ArrayView<Float8> input8, int x8, int channels8)
        where TTile : struct, IRegisterTile
    {
        if (ox >= TapBegin(g, 0) && ox < TapEnd(g, 0)) left.MultiplyAdd(outputGrad, d, input8, x8);
        if (ox >= TapBegin(g, 1) && ox < TapEnd(g, 1)) middle.MultiplyAdd(outputGrad, d, input8, x8 + channels8);
        if (ox >= TapBegin(g, 2) && ox < TapEnd(g, 2)) right.MultiplyAdd(outputGrad, d, input8, x8 + 2 * channels8);
    }

    /// <summary>
    /// dW[kh, kw, c, f] = Σ over chunks s of partial[s, kh, kw, f, c] (Conv2dWeightGradKernelRow's
    /// slabs), from 0 and in chunk order, as GemmSplitKReduce adds the direct tiles' slabs. Items
    /// are the slabs' elements, in the slabs' order: neighbouring items read neighbouring floats
    /// of every slab and each writes one float of dW, where items in dW's order gathered every
    /// read (chunks of them) a channel apart.
    /// </summary>
    public static void Conv2dWeightGradKernelRowSum(Index1D thread, ArrayView<float> partials, ArrayView<float> kernelGrad,
        int channels, int filters, int chunks, WorkSplit split)
    {
        int start = split.Start(thread), end = split.End(thread), slab = (int)kernelGrad.Length;
        for (int at = start; at < end; at++)
        {
            int tap = at / (filters * channels), f = at / channels % filters, c = at % channels;
            float sum = 0f;
            for (int s = 0; s < chunks; s++) sum += partials[s * slab + at];
            kernelGrad[(tap * channels + c) * filters + f] = sum;
        }
    }

    /// <summary>Offset of kernel row i = (kh, kw, c) from a receptive field's corner.</summary>
    internal static int TapOffset(ConvGeometry g, int i)
    {
        int tap = i / g.InChannels, c = i % g.InChannels;
        return (tap / g.KernelWidth * g.InWidth + tap % g.KernelWidth) * g.InChannels + c;
    }

}

/// <summary>
/// The items of an implicit weight gradient (Conv2dWeightGradImplicit, Conv2dWeightGradMaxPool):
/// (chunk, row tile, column tile), chunk-major, each a tile's rows of dW (<see cref="WeightGradRows"/>)
/// × columns8 Float8 columns, summed over one chunk of rowChunk output pixels.
/// </summary>
public readonly struct WeightGradItems
{
    readonly WeightGradRows rows;
    readonly int columns8, tileColumns, tiles;

    /// <summary>Items in all.</summary>
    public readonly int Count;

    public WeightGradItems(ConvGeometry g, int tileRows, int columns8, int filters8, int rowChunk)
    {
        rows = new WeightGradRows(g, tileRows);
        this.columns8 = columns8;
        tileColumns = filters8 / columns8;
        tiles = rows.Tiles * tileColumns;
        Count = tiles * ((g.ColumnRows + rowChunk - 1) / rowChunk);
    }

    /// <summary>An item's chunk, its row tile as <see cref="WeightGradRows.Take"/> gives it, and its first Float8 column.</summary>
    public void Take(int item, out int chunk, out int i0, out int rowEnd, out int kh, out int kw, out int col8)
    {
        chunk = item / tiles;
        int t = item % tiles;
        rows.Take(t / tileColumns, out i0, out rowEnd, out kh, out kw);
        col8 = t % tileColumns * columns8;
    }
}

/// <summary>
/// How Conv2dWeightGradImplicit lays its register tiles' rows over the kernel rows (kh, kw, c):
/// without padding, tile after tile over all of them; with padding and Cin a multiple of 8 (x read
/// unpadded), per tap, so that every row of a tile skips the same padding pixels.
/// </summary>
public readonly struct WeightGradRows
{
    readonly int rows, channels, width, kernelWidth, tilesPerTap;
    readonly bool perTap;

    public WeightGradRows(ConvGeometry g, int tileRows)
    {
        rows = tileRows;
        channels = g.InChannels;
        width = g.ColumnWidth;
        kernelWidth = g.KernelWidth;
        perTap = ReadsUnpadded(g);
        tilesPerTap = (channels + rows - 1) / rows;
    }

    /// <summary>Whether the weight gradient reads this convolution's input unpadded: with padding, and Cin a multiple of 8 (else a tap's tile would be mostly idle rows).</summary>
    public static bool ReadsUnpadded(ConvGeometry g) => g.Padding > 0 && g.Vectorized;

    /// <summary>Row tiles: ⌈KH·KW·Cin / rows⌉, or KH·KW·⌈Cin / rows⌉ per tap.</summary>
    public int Tiles => perTap ? width / channels * tilesPerTap : (width + rows - 1) / rows;

    /// <summary>Row tile t's first kernel row i0, the end of its rows (it stores rowEnd - i0 of them, at most its own) and, per tap, its tap (kh, kw); else tap 0.</summary>
    public void Take(int t, out int i0, out int rowEnd, out int kh, out int kw)
    {
        int tap = perTap ? t / tilesPerTap : 0;
        i0 = perTap ? tap * channels + t % tilesPerTap * rows : t * rows;
        rowEnd = perTap ? tap * channels + channels : width;
        kh = tap / kernelWidth;
        kw = tap % kernelWidth;
    }
}
