using ILGPU;
using ILGPU.Algorithms;

namespace GpuCnn.Kernels;

/// <summary>
/// Winograd's minimal filtering for 3×3 stride-1 convolutions (Lavin and Gray, "Fast Algorithms
/// for Convolutional Neural Networks", 2015). Each m×m output tile comes from an (m+2)×(m+2) input
/// tile d and the 3×3 kernel g as Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A (IWinogradTransform: F(2×2, 3×3)
/// in 16 multiplies instead of 36, F(4×4, 3×3) in 36 instead of 144). Across channels the ⊙
/// becomes independent GEMMs, M_e = V_e · U_e, with V_e (tiles × Cin) the transformed input and
/// U_e (Cin × Cout) the transformed kernel. As three passes (Conv2dWinogradInput, the plan's
/// GEMMs, Conv2dWinogradOutput: F(2×2, 3×3) only) V and M go through memory; Conv2dWinogradFused
/// keeps them in a work-item's shared memory and multiplies in a register tile.
/// The input gradient of a stride-1 convolution is itself a 3×3 stride-1 convolution of dY,
/// padded by 2 - p, with the kernel turned 180° and its channel axes swapped; the filter
/// transform does that turn (flip = 1), so the same kernels serve both passes.
/// Layouts: U is elements × Cin × Cout, V is elements × tiles × Cin, M is elements × tiles × Cout,
/// tiles in (image, tile row, tile column) order and the channel last, so neighbouring
/// work-items read and write neighbouring floats.
/// </summary>
public static class Conv2dWinogradKernels
{
    /// <summary>Output tiles of F(size×size, 3×3) for a convolution: ⌈OH/size⌉·⌈OW/size⌉ per image.</summary>
    public static int Tiles(ConvGeometry g, int size) => g.Batch * TileRows(g, size) * TileColumns(g, size);

    /// <summary>(size+2)²: the elements of a transformed tile of F(size×size, 3×3), one GEMM each.</summary>
    public static int Elements(int size) => (size + 2) * (size + 2);

    internal static int TileRows(ConvGeometry g, int size) => (g.OutHeight + size - 1) / size;

    internal static int TileColumns(ConvGeometry g, int size) => (g.OutWidth + size - 1) / size;

    /// <summary>
    /// Floats between the transformed kernel's slabs: Cin·Cout rounded up to a whole Float8, so
    /// Conv2dWinogradFilter stores whole Float8s.
    /// </summary>
    public static int FilterStride(int pairs) => (pairs + 7) / 8 * 8;

    /// <summary>
    /// U_e[c, f] = (G g Gᵀ)_e of TWinograd for the 3×3 kernel g = W[:, :, c, f] (Keras layout
    /// KH×KW×Cin×Cout), slab e at e·FilterStride. With flip = 1 it transforms the input gradient's
    /// kernel instead, W'[kh, kw, f, c] = W[2-kh, 2-kw, c, f], into U'_e[f, c]. Items are eight
    /// neighbouring targets, so each slab is written in whole Float8s: the slabs lie a multiple of
    /// 4 KB apart, and written a float at a time they evicted each other's lines from L1 (0.12 ms
    /// for a 64 × 64 kernel on a Zen 5 core). Targets past the last pair repeat it into the padding.
    /// </summary>
    public static void Conv2dWinogradFilter<TWinograd>(Index1D thread, ArrayView<float> kernel, ArrayView<float> transformed,
        int inChannels, int filters, int flip, WorkSplit split)
        where TWinograd : struct, IWinogradTransform
    {
        TWinograd winograd = default;
        int end = split.End(thread);
        int pairs = inChannels * filters, stride8 = FilterStride(pairs) / 8;
        var transformed8 = transformed.Cast<Float8>();
        for (int item = split.Start(thread); item < end; item++)
        {
            var at = new FilterTaps(item, inChannels, filters, flip);
            // Tap (kh, kw) of the flipped kernel is (2-kh, 2-kw) of W.
            winograd.Filter(transformed8, item, stride8,
                at.Tap(kernel, 0, 0), at.Tap(kernel, 0, 1), at.Tap(kernel, 0, 2),
                at.Tap(kernel, 1, 0), at.Tap(kernel, 1, 1), at.Tap(kernel, 1, 2),
                at.Tap(kernel, 2, 0), at.Tap(kernel, 2, 1), at.Tap(kernel, 2, 2));
        }
    }

    /// <summary>Where the eight targets of a Conv2dWinogradFilter item read W: the (c, f) pair of each, as c·Cout + f.</summary>
    readonly struct FilterTaps
    {
        readonly int s0, s1, s2, s3, s4, s5, s6, s7, pairs, flip;

        public FilterTaps(int item, int inChannels, int filters, int flip)
        {
            pairs = inChannels * filters;
            this.flip = flip;
            int t = item * 8;
            s0 = Source(t, inChannels, filters, flip); s1 = Source(t + 1, inChannels, filters, flip);
            s2 = Source(t + 2, inChannels, filters, flip); s3 = Source(t + 3, inChannels, filters, flip);
            s4 = Source(t + 4, inChannels, filters, flip); s5 = Source(t + 5, inChannels, filters, flip);
            s6 = Source(t + 6, inChannels, filters, flip); s7 = Source(t + 7, inChannels, filters, flip);
        }

        /// <summary>Target t is pair (c, f) = (t / Cout, t mod Cout), or (t mod Cin, t / Cin) flipped.</summary>
        static int Source(int target, int inChannels, int filters, int flip)
        {
            int t = XMath.Min(target, inChannels * filters - 1);
            return flip == 0 ? t : t % inChannels * filters + t / inChannels;
        }

        /// <summary>Tap (kh, kw) of the eight kernels.</summary>
        public Float8 Tap(ArrayView<float> kernel, int kh, int kw)
        {
            int tap = (flip == 0 ? kh * 3 + kw : (2 - kh) * 3 + 2 - kw) * pairs;
            return new Float8
            {
                X0 = kernel[tap + s0], X1 = kernel[tap + s1], X2 = kernel[tap + s2], X3 = kernel[tap + s3],
                X4 = kernel[tap + s4], X5 = kernel[tap + s5], X6 = kernel[tap + s6], X7 = kernel[tap + s7],
            };
        }
    }

    /// <summary>
    /// V_e[tile, c] = (Bᵀ d B)_e for the 4×4 input tile d whose corner is (2·ty - p, 2·tx - p),
    /// zero outside the image. Items are (tile, c) pairs. Out-of-image taps read a clamped pixel
    /// and multiply it by 0, with no branch (PoCL vectorises only branch-free work-items).
    /// </summary>
    public static void Conv2dWinogradInput(Index1D thread, ArrayView<float> input, ArrayView<float> transformed,
        ConvGeometry g, WorkSplit split)
    {
        int end = split.End(thread);
        for (int item = split.Start(thread); item < end; item++) InputTile(item, input, transformed, g);
    }

    /// <summary>The same, one item per work-item with no loop around it (GPU-shaped plans: PoCL vectorises only work-items whose control flow is the same).</summary>
    public static void Conv2dWinogradInputPerItem(Index1D item, ArrayView<float> input, ArrayView<float> transformed,
        ConvGeometry g) => InputTile(item, input, transformed, g);

    static void InputTile(int item, ArrayView<float> input, ArrayView<float> transformed, ConvGeometry g)
    {
        int c = g.InChannels;
        int stride = Tiles(g, 2) * c;
        int tile = item / c, channel = item % c;
        var at = new PixelIndex(tile, TileRows(g, 2), TileColumns(g, 2));
        int y0 = 2 * at.Y - g.Padding, x0 = 2 * at.X - g.Padding;
        int image = at.Image * g.InHeight;
        // Rows of Bᵀ d: t0 = d0 - d2, t1 = d1 + d2, t2 = d2 - d1, t3 = d1 - d3 (d_i: row i of the tile).
        InputRows(input, g, image, y0, x0, channel,
            out float d00, out float d01, out float d02, out float d03, out float d10, out float d11, out float d12, out float d13,
            out float d20, out float d21, out float d22, out float d23, out float d30, out float d31, out float d32, out float d33);
        InputRow(transformed, item, stride, 0, d00 - d20, d01 - d21, d02 - d22, d03 - d23);
        InputRow(transformed, item, stride, 1, d10 + d20, d11 + d21, d12 + d22, d13 + d23);
        InputRow(transformed, item, stride, 2, d20 - d10, d21 - d11, d22 - d12, d23 - d13);
        InputRow(transformed, item, stride, 3, d10 - d30, d11 - d31, d12 - d32, d13 - d33);
    }

    static void InputRows(ArrayView<float> input, ConvGeometry g, int image, int y0, int x0, int channel,
        out float d00, out float d01, out float d02, out float d03, out float d10, out float d11, out float d12, out float d13,
        out float d20, out float d21, out float d22, out float d23, out float d30, out float d31, out float d32, out float d33)
    {
        InputTaps(input, g, image, y0, x0, channel, out d00, out d01, out d02, out d03);
        InputTaps(input, g, image, y0 + 1, x0, channel, out d10, out d11, out d12, out d13);
        InputTaps(input, g, image, y0 + 2, x0, channel, out d20, out d21, out d22, out d23);
        InputTaps(input, g, image, y0 + 3, x0, channel, out d30, out d31, out d32, out d33);
    }

    /// <summary>Four pixels of one input row from column x0, 0 outside the image.</summary>
    static void InputTaps(ArrayView<float> input, ConvGeometry g, int image, int y, int x0, int channel,
        out float d0, out float d1, out float d2, out float d3)
    {
        float rowMask = Inside(y, g.InHeight);
        int row = (image + XMath.Clamp(y, 0, g.InHeight - 1)) * g.InWidth;
        d0 = Pixel(input, g, row, x0, channel) * rowMask;
        d1 = Pixel(input, g, row, x0 + 1, channel) * rowMask;
        d2 = Pixel(input, g, row, x0 + 2, channel) * rowMask;
        d3 = Pixel(input, g, row, x0 + 3, channel) * rowMask;
    }

    static float Pixel(ArrayView<float> input, ConvGeometry g, int row, int x, int channel) =>
        input[(row + XMath.Clamp(x, 0, g.InWidth - 1)) * g.InChannels + channel] * Inside(x, g.InWidth);

    /// <summary>1 where 0 ≤ v &lt; limit, else 0, from integer min and max (no comparison, no branch).</summary>
    internal static float Inside(int v, int limit) => XMath.Min(XMath.Max(limit - v, 0), 1) * XMath.Min(XMath.Max(v + 1, 0), 1);

    /// <summary>Row r of (Bᵀ d) B from row r of Bᵀ d.</summary>
    static void InputRow(ArrayView<float> transformed, int target, int stride, int r, float t0, float t1, float t2, float t3)
    {
        int e = 4 * r;
        transformed[e * stride + target] = t0 - t2;
        transformed[(e + 1) * stride + target] = t1 + t2;
        transformed[(e + 2) * stride + target] = t2 - t1;
        transformed[(e + 3) * stride + target] = t1 - t3;
    }

    static void ProductRow(ArrayView<float> product, int item, int stride, int r,
        out float m0, out float m1, out float m2, out float m3)
    {
        int e = 4 * r * stride + item;
        m0 = product[e];
        m1 = product[e + stride];
        m2 = product[e + 2 * stride];
        m3 = product[e + 3 * stride];
    }

    /// <summary>
    /// y[n, 2·ty + i, 2·tx + j, f] = epilogue((Aᵀ m A)[i, j]) for the 16 products m_e = M_e[tile, f];
    /// outputs past the edge of an odd-sized image are not stored. Items are (tile, f) pairs.
    /// </summary>
    public static void Conv2dWinogradOutput(Index1D thread, ArrayView<float> product, ArrayView<float> output,
        ArrayView<float> bias, ConvGeometry g, GemmArgs epilogue, WorkSplit split)
    {
        int end = split.End(thread);
        for (int item = split.Start(thread); item < end; item++) OutputTile(item, product, output, bias, g, epilogue);
    }

    /// <summary>The same, one item per work-item with no loop around it (GPU-shaped plans).</summary>
    public static void Conv2dWinogradOutputPerItem(Index1D item, ArrayView<float> product, ArrayView<float> output,
        ArrayView<float> bias, ConvGeometry g, GemmArgs epilogue) => OutputTile(item, product, output, bias, g, epilogue);

    static void OutputTile(int item, ArrayView<float> product, ArrayView<float> output, ArrayView<float> bias,
        ConvGeometry g, GemmArgs epilogue)
    {
        int filters = epilogue.N;
        int stride = Tiles(g, 2) * filters;
        int tile = item / filters, f = item % filters;
        ProductRow(product, item, stride, 0, out float m00, out float m01, out float m02, out float m03);
        ProductRow(product, item, stride, 1, out float m10, out float m11, out float m12, out float m13);
        ProductRow(product, item, stride, 2, out float m20, out float m21, out float m22, out float m23);
        ProductRow(product, item, stride, 3, out float m30, out float m31, out float m32, out float m33);
        // Rows of Aᵀ m: s0 = m0 + m1 + m2, s1 = m1 - m2 - m3 (m_r: row r of the 4×4 product); then the same on columns.
        float s00 = m00 + m10 + m20, s01 = m01 + m11 + m21, s02 = m02 + m12 + m22, s03 = m03 + m13 + m23;
        float s10 = m10 - m20 - m30, s11 = m11 - m21 - m31, s12 = m12 - m22 - m32, s13 = m13 - m23 - m33;
        var at = new PixelIndex(tile, TileRows(g, 2), TileColumns(g, 2));
        int oy = 2 * at.Y, ox = 2 * at.X;
        int pixel = (at.Image * g.OutHeight + oy) * g.OutWidth + ox;
        output[pixel * filters + f] = GemmKernels.Epilogue(s00 + s01 + s02, bias, epilogue, f);
        if (ox + 1 < g.OutWidth) output[(pixel + 1) * filters + f] = GemmKernels.Epilogue(s01 - s02 - s03, bias, epilogue, f);
        if (oy + 1 < g.OutHeight)
        {
            int below = pixel + g.OutWidth;
            output[below * filters + f] = GemmKernels.Epilogue(s10 + s11 + s12, bias, epilogue, f);
            if (ox + 1 < g.OutWidth) output[(below + 1) * filters + f] = GemmKernels.Epilogue(s11 - s12 - s13, bias, epilogue, f);
        }
    }

    /// <summary>
    /// The fused kernel's shared memory, in floats: 48 KB, what a CUDA block may allocate statically.
    /// V and M of a tile of R rows and F filters fill elements·R·(Cin + F) of them (16 or 36 elements).
    /// </summary>
    public const int FusedSharedFloats = 12 * 1024;

    /// <summary>The most input channels the fused kernel of these elements with this register tile takes (its V and M in FusedSharedFloats).</summary>
    public static int FusedMaxChannels(int elements, int rows, int filters) => FusedSharedFloats / (elements * rows) - filters;

    /// <summary>
    /// The whole F(m×m, 3×3) convolution of TWinograd in one kernel, for the CPU plans: each
    /// work-item (a group of one) takes TTile.Rows output tiles and every filter. It transforms
    /// their input tiles into V (elements × rows × Cin) in its shared memory, multiplies V_e by U_e
    /// (Cin × filters, from Conv2dWinogradFilter) in the register tile into M (elements × rows ×
    /// the tile's filters, shared too), and transforms M back into the output through the GEMM's
    /// epilogue. V and M stay in the core's cache, where the three-pass Winograd sends them through
    /// memory. Padding is read as zeros (no padded copy); outputs past the image's edge are not
    /// stored. With the kernel transformed from the forward layer's (Conv2dWinogradFilter, flip = 1)
    /// it computes that layer's input gradient from dZ, padded by 2 - p. Needs Cin in multiples of
    /// 16 up to <see cref="FusedMaxChannels"/>, and filters in multiples of the tile's. With
    /// elementPairs = 1 it multiplies two elements at a time in two tiles (<see cref="MultiplyElementPair"/>);
    /// the same sums in the same order, so the same bits.
    /// </summary>
    public static void Conv2dWinogradFused<TTile, TWinograd>(ArrayView<float> input, ArrayView<float> transformedKernel,
        ArrayView<float> output, ArrayView<float> bias, ConvGeometry g, GemmArgs epilogue, int elementPairs)
        where TTile : struct, IRegisterTile
        where TWinograd : struct, IWinogradTransform
    {
        TTile tile = default;
        TWinograd winograd = default;
        int elements = winograd.Elements, rows = tile.Rows, channels = g.InChannels, filters8 = epilogue.N / 8, tileFilters8 = tile.Columns8;
        // A fixed size: ILGPU keeps a dynamic allocation's address in a program-scope variable,
        // which PoCL's threads would share (and overwrite) across work-groups.
        var scratch = SharedMemory.Allocate<float>(FusedSharedFloats);
        var v = scratch.SubView(0, elements * rows * channels);
        var m8 = scratch.SubView(elements * rows * channels, elements * rows * tileFilters8 * 8).Cast<Float8>();
        var kernel8 = transformedKernel.Cast<Float8>();
        int tiles = Tiles(g, winograd.Size), first = Grid.GlobalIndex.X * rows;
        for (int r = 0; r < rows; r++) winograd.Input(input.Cast<Float8>(), v.Cast<Float8>(), g, XMath.Min(first + r, tiles - 1), r, rows);
        tile.BasesFromStride(0, channels);
        TTile next = tile; // MultiplyElementPair's second tile: the same bases
        int valid = XMath.Min(rows, tiles - first);
        for (int col8 = 0; col8 < filters8; col8 += tileFilters8)
        {
            if (elementPairs != 0)
                for (int e = 0; e < elements; e += 2) MultiplyElementPair(ref tile, ref next, v, kernel8, m8, bias, e, rows, channels, filters8, col8);
            else
                for (int e = 0; e < elements; e++)
                {
                    tile.Clear();
                    int shift = e * rows * channels, w = e * channels * filters8 + col8;
                    for (int c = 0; c < channels; c++)
                    {
                        tile.MultiplyAdd(v, shift + c, kernel8, w);
                        w += filters8;
                    }
                    tile.Store(m8, bias, default, e * rows * tileFilters8, tileFilters8, 0, rows);
                }
            for (int r = 0; r < valid; r++)
                for (int j = 0; j < tileFilters8; j += 2)
                    winograd.Output(m8, output.Cast<Float8>(), bias, g, epilogue, first + r, r * tileFilters8 + j, rows * tileFilters8, col8 + j);
        }
    }

    /// <summary>
    /// M_e and M_e+1 of Conv2dWinogradFused (elements × rows × the tile's filters, in m8) in two
    /// tiles, their multiply-adds interleaved: a tile of few accumulators (4 × 16, four 512-bit
    /// registers) alone waits out each multiply-add's latency, as each adds to what the last one
    /// made; two tiles give twice the independent chains. Each element's sum runs over the channels
    /// in order, as alone. Elements come in even numbers (16 and 36).
    /// </summary>
    static void MultiplyElementPair<TTile>(ref TTile tile, ref TTile next, ArrayView<float> v, ArrayView<Float8> kernel8,
        ArrayView<Float8> m8, ArrayView<float> bias, int e, int rows, int channels, int filters8, int col8)
        where TTile : struct, IRegisterTile
    {
        tile.Clear();
        next.Clear();
        int shift = e * rows * channels, w = e * channels * filters8 + col8;
        int nextShift = shift + rows * channels, nextW = w + channels * filters8;
        for (int c = 0; c < channels; c++)
        {
            tile.MultiplyAdd(v, shift + c, kernel8, w);
            next.MultiplyAdd(v, nextShift + c, kernel8, nextW);
            w += filters8;
            nextW += filters8;
        }
        int columns8 = tile.Columns8;
        // No epilogue here: it runs on the output transform's results.
        tile.Store(m8, bias, default, e * rows * columns8, columns8, 0, rows);
        next.Store(m8, bias, default, (e + 1) * rows * columns8, columns8, 0, rows);
    }

    /// <summary>
    /// The weight gradient of a 3×3 stride-1 convolution in F(3×3, m×m), the transpose of
    /// TWinograd's F(m×m, 3×3): over one output tile, dW's taps are Gᵀ[(A dz Aᵀ) ⊙ (Bᵀ d B)]G for
    /// its m×m output gradient dz and its (m+2)×(m+2) input tile d (the forward pass's V), so summed
    /// over tiles each element is a GEMM, M_e[c, f] = Σ_tiles V_e[tile, c] · Z_e[tile, f], and the
    /// taps come from the sums once (Conv2dWinogradKernelGrad): (m+2)² products a tile and channel
    /// pair, where the direct sum takes 9m². Each work-item (a group of one) takes one chunk of
    /// the split's output tiles, a batch of them at a time: it
    /// transforms their input into V (elements × batch × Cin) and their output gradient into Z
    /// (elements × batch × filters) in its own part of the workspace, and adds V_eᵀ Z_e (a register
    /// tile of TTile.Rows channels × its filters) into its chunk's slab of the products (elements ×
    /// Cin × filters, slabs one after another). Needs Cin in multiples of 16 and of TTile.Rows, and
    /// filters in multiples of the tile's. The sums' order depends on the split, not on how many
    /// threads run its chunks.
    /// </summary>
    public static void Conv2dWinogradWeightGrad<TTile, TWinograd>(ArrayView<float> input, ArrayView<float> outputGrad,
        ArrayView<float> workspace, ArrayView<float> products, ConvGeometry g, WinogradWeightGradSplit split)
        where TTile : struct, IRegisterTile
        where TWinograd : struct, IWinogradTransform
    {
        TTile tile = default;
        TWinograd winograd = default;
        int elements = winograd.Elements, channels = g.InChannels, filters = split.Filters, filters8 = filters / 8, tileFilters8 = tile.Columns8;
        int chunk = Grid.GlobalIndex.X, tiles = Tiles(g, winograd.Size), batch = split.Batch;
        int first = chunk * split.TilesPerChunk, end = XMath.Min(tiles, first + split.TilesPerChunk);
        int vFloats = elements * batch * channels;
        var own = workspace.SubView((long)chunk * elements * batch * (channels + filters), elements * batch * (channels + filters));
        var v = own.SubView(0, vFloats);
        var z8 = own.SubView(vFloats, elements * batch * filters).Cast<Float8>();
        var products8 = products.Cast<Float8>();
        var input8 = input.Cast<Float8>();
        var outputGrad8 = outputGrad.Cast<Float8>();
        var v8 = v.Cast<Float8>();
        int slab8 = chunk * elements * channels * filters8;
        tile.BasesFromStride(0, 1);
        for (int t0 = first; t0 < end; t0 += batch)
        {
            int valid = XMath.Min(batch, end - t0);
            for (int r = 0; r < valid; r++)
            {
                winograd.Input(input8, v8, g, t0 + r, r, batch);
                winograd.OutputGrad(outputGrad8, z8, g, filters, t0 + r, r, batch);
            }
            for (int e = 0; e < elements; e++)
                for (int c0 = 0; c0 < channels; c0 += tile.Rows)
                    for (int col8 = 0; col8 < filters8; col8 += tileFilters8)
                    {
                        tile.Clear();
                        // Row k of the tile is channel c0 + k: V_e[r, c0 + k], batch rows Cin apart.
                        int a = e * batch * channels + c0, b = e * batch * filters8 + col8;
                        for (int r = 0; r < valid; r++)
                        {
                            tile.MultiplyAdd(v, a, z8, b);
                            a += channels;
                            b += filters8;
                        }
                        // The first batch stores its sums, the others add theirs.
                        int at = slab8 + (e * channels + c0) * filters8 + col8;
                        if (t0 == first) tile.Store(products8, products, default, at, filters8, col8, tile.Rows);
                        else tile.AddTo(products8, at, filters8);
                    }
        }
    }

    /// <summary>
    /// dW (3×3×Cin×filters, Keras layout) from Conv2dWinogradWeightGrad's products: each element
    /// summed over the chunks in order, then TWinograd's Gᵀ m G. Items are eight neighbouring (c, f) pairs.
    /// </summary>
    public static void Conv2dWinogradKernelGrad<TWinograd>(Index1D thread, ArrayView<float> products, ArrayView<float> kernelGrad,
        int pairs, int chunks, WorkSplit split)
        where TWinograd : struct, IWinogradTransform
    {
        TWinograd winograd = default;
        int end = split.End(thread);
        for (int item = split.Start(thread); item < end; item++)
            winograd.KernelGrad(products.Cast<Float8>(), kernelGrad.Cast<Float8>(), item, pairs / 8, chunks);
    }

    /// <summary>Σ over chunks s of products8[at + s·slab8], in order.</summary>
    internal static Float8 ChunkSum(ArrayView<Float8> products8, int at, int slab8, int chunks)
    {
        Float8 sum = products8[at];
        for (int s = 1; s < chunks; s++) sum.Add(products8[at + s * slab8]);
        return sum;
    }
}

/// <summary>
/// How Conv2dWinogradWeightGrad splits a layer's output tiles: <see cref="Chunks"/> chunks of
/// <see cref="TilesPerChunk"/> (a work-item and a slab of products each), each taken
/// <see cref="Batch"/> tiles at a time (a multiple of which TilesPerChunk is).
/// </summary>
public struct WinogradWeightGradSplit
{
    public int Filters, TilesPerChunk, Batch, Chunks;

    /// <summary>
    /// Chunks of about <paramref name="tilesPerChunk"/> tiles (at least one) in batches of at most
    /// <paramref name="batch"/>, as even as they come (128 tiles in batches of 14 at most: ten of 13),
    /// the chunk rounded up to whole batches.
    /// </summary>
    public static WinogradWeightGradSplit Of(int tiles, int filters, int tilesPerChunk, int batch)
    {
        int perChunk = Math.Max(1, tilesPerChunk), batches = (perChunk + Math.Max(1, batch) - 1) / Math.Max(1, batch);
        int take = (perChunk + batches - 1) / batches;
        perChunk = batches * take;
        return new() { Filters = filters, TilesPerChunk = perChunk, Batch = take, Chunks = (tiles + perChunk - 1) / perChunk };
    }
}
