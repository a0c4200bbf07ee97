using ILGPU;
using ILGPU.Algorithms;

namespace GpuCnn.Kernels;

/// <summary>
/// Winograd's minimal filtering F(2×2, 3×3) for 3×3 stride-1 convolutions (Lavin and Gray, "Fast
/// Algorithms for Convolutional Neural Networks", 2015). Each 2×2 output tile comes from a 4×4
/// input tile d and the 3×3 kernel g as Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A: 16 multiplies instead of
/// 36. Across channels the ⊙ becomes 16 independent GEMMs, M_e = V_e · U_e for e = 0..15, with
/// V_e (tiles × Cin) the transformed input and U_e (Cin × Cout) the transformed kernel, so the
/// heavy work stays in the plan's GEMM and the transforms are memory-bound passes.
/// The input gradient of a stride-1 convolution is itself a 3×3 stride-1 convolution of dY,
/// padded by 2 - p, with the kernel turned 180° and its channel axes swapped; the filter
/// transform does that turn (flip = 1), so the same three kernels serve both passes.
/// Layouts: U is 16 × Cin × Cout, V is 16 × tiles × Cin, M is 16 × tiles × Cout, tiles in
/// (image, tile row, tile column) order and the channel last, so neighbouring work-items read
/// and write neighbouring floats.
/// </summary>
public static class Conv2dWinogradKernels
{
    /// <summary>Output tiles of F(2×2, 3×3) for a convolution: ⌈OH/2⌉·⌈OW/2⌉ per image.</summary>
    public static int Tiles(ConvGeometry g) => g.Batch * TileRows(g) * TileColumns(g);

    static int TileRows(ConvGeometry g) => (g.OutHeight + 1) / 2;

    static int TileColumns(ConvGeometry g) => (g.OutWidth + 1) / 2;

    /// <summary>
    /// U_e[c, f] = (G g Gᵀ)_e for the 3×3 kernel g = W[:, :, c, f] (Keras layout KH×KW×Cin×Cout).
    /// With flip = 1 it transforms the input gradient's kernel instead, W'[kh, kw, f, c] =
    /// W[2-kh, 2-kw, c, f], into U'_e[f, c]. Items are (c, f) pairs.
    /// </summary>
    public static void Conv2dWinogradFilter(Index1D thread, ArrayView<float> kernel, ArrayView<float> transformed,
        int inChannels, int filters, int flip, WorkSplit split)
    {
        int end = split.End(thread);
        int pairs = inChannels * filters;
        for (int item = split.Start(thread); item < end; item++)
        {
            int c = item / filters, f = item % filters;
            // Rows of G·g, then columns: (G g) Gᵀ. Tap (kh, kw) of the flipped kernel is (2-kh, 2-kw) of W.
            float g00 = Tap(kernel, 0, 0, item, pairs, flip), g01 = Tap(kernel, 0, 1, item, pairs, flip), g02 = Tap(kernel, 0, 2, item, pairs, flip);
            float g10 = Tap(kernel, 1, 0, item, pairs, flip), g11 = Tap(kernel, 1, 1, item, pairs, flip), g12 = Tap(kernel, 1, 2, item, pairs, flip);
            float g20 = Tap(kernel, 2, 0, item, pairs, flip), g21 = Tap(kernel, 2, 1, item, pairs, flip), g22 = Tap(kernel, 2, 2, item, pairs, flip);
            int target = flip == 0 ? item : f * inChannels + c;
            FilterRow(transformed, target, pairs, 0, g00, g01, g02);
            FilterRow(transformed, target, pairs, 1, 0.5f * (g00 + g10 + g20), 0.5f * (g01 + g11 + g21), 0.5f * (g02 + g12 + g22));
            FilterRow(transformed, target, pairs, 2, 0.5f * (g00 - g10 + g20), 0.5f * (g01 - g11 + g21), 0.5f * (g02 - g12 + g22));
            FilterRow(transformed, target, pairs, 3, g20, g21, g22);
        }
    }

    static float Tap(ArrayView<float> kernel, int kh, int kw, int item, int pairs, int flip) =>
        flip == 0 ? kernel[(kh * 3 + kw) * pairs + item] : kernel[((2 - kh) * 3 + 2 - kw) * pairs + item];

    /// <summary>Row r of (G g) Gᵀ from row r of G g: elements e = 4r .. 4r+3.</summary>
    static void FilterRow(ArrayView<float> transformed, int target, int pairs, int r, float x0, float x1, float x2)
    {
        int e = 4 * r;
        transformed[e * pairs + target] = x0;
        transformed[(e + 1) * pairs + target] = 0.5f * (x0 + x1 + x2);
        transformed[(e + 2) * pairs + target] = 0.5f * (x0 - x1 + x2);
        transformed[(e + 3) * pairs + target] = x2;
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
        int stride = Tiles(g) * c;
        int tile = item / c, channel = item % c;
        var at = new PixelIndex(tile, TileRows(g), TileColumns(g));
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
    static float Inside(int v, int limit) => XMath.Min(XMath.Max(limit - v, 0), 1) * XMath.Min(XMath.Max(v + 1, 0), 1);

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
        int stride = Tiles(g) * filters;
        int tile = item / filters, f = item % filters;
        ProductRow(product, item, stride, 0, out float m00, out float m01, out float m02, out float m03);
        ProductRow(product, item, stride, 1, out float m10, out float m11, out float m12, out float m13);
        ProductRow(product, item, stride, 2, out float m20, out float m21, out float m22, out float m23);
        ProductRow(product, item, stride, 3, out float m30, out float m31, out float m32, out float m33);
        // Rows of Aᵀ m: s0 = m0 + m1 + m2, s1 = m1 - m2 - m3 (m_r: row r of the 4×4 product); then the same on columns.
        float s00 = m00 + m10 + m20, s01 = m01 + m11 + m21, s02 = m02 + m12 + m22, s03 = m03 + m13 + m23;
        float s10 = m10 - m20 - m30, s11 = m11 - m21 - m31, s12 = m12 - m22 - m32, s13 = m13 - m23 - m33;
        var at = new PixelIndex(tile, TileRows(g), TileColumns(g));
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
}
