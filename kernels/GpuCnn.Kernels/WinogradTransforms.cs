using ILGPU;
using ILGPU.Algorithms;

namespace GpuCnn.Kernels;

/// <summary>
/// One of Winograd's minimal filterings F(m×m, 3×3), as the filter transform applies it to eight
/// kernels (one Float8) at a time and the fused kernel to sixteen channels or filters (one
/// Float8Pair): an m×m output tile from an (m+2)×(m+2) input
/// tile d and a 3×3 kernel g as Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, (m+2)² products instead of 9m².
/// U, V and M hold element e of every tile in slab e, elementStride Float8s after slab e-1.
/// </summary>
public interface IWinogradTransform
{
    /// <summary>m: the output tile's edge in pixels.</summary>
    int Size { get; }

    /// <summary>(m+2)²: the elements of a transformed tile, one GEMM each.</summary>
    int Elements { get; }

    /// <summary>U_e = (G g Gᵀ)_e of eight 3×3 kernels (taps g_ij), stored at e·stride8 + item.</summary>
    void Filter(ArrayView<Float8> u8, int item, int stride8, in Float8 g00, in Float8 g01, in Float8 g02,
        in Float8 g10, in Float8 g11, in Float8 g12, in Float8 g20, in Float8 g21, in Float8 g22);

    /// <summary>
    /// V_e[r, :] = (Bᵀ d B)_e for the input tile under output tile <paramref name="tile"/>, every
    /// channel group (V rows are Cin/8 Float8s long, slabs rows·Cin/8 apart). Taps outside the
    /// image (padding, and the pixels past a ragged last tile) read a clamped pixel times 0.
    /// </summary>
    void Input(ArrayView<Float8> input8, ArrayView<Float8> v8, ConvGeometry g, int tile, int r, int rows);

    /// <summary>
    /// The outputs of output tile <paramref name="tile"/> for 16 filters from col8·8 on: Aᵀ m A of
    /// the products at m8[at + e·elementStride] (and the next Float8), through the epilogue; pixels
    /// past the image's edge are not stored. May overwrite the products it has read.
    /// </summary>
    void Output(ArrayView<Float8> m8, ArrayView<Float8> output8, ArrayView<float> bias, ConvGeometry g,
        GemmArgs epilogue, int tile, int at, int elementStride, int col8);

    /// <summary>
    /// The weight gradient's F(3×3, m×m), the transpose of F(m×m, 3×3) (A and G trade places):
    /// Z_e[r, :] = (A dz Aᵀ)_e for the m×m output gradient dz of output tile <paramref name="tile"/>,
    /// every filter (Z rows are filters/8 Float8s long, slabs rows·filters/8 apart). Pixels past the
    /// image's edge read a clamped pixel times 0.
    /// </summary>
    void OutputGrad(ArrayView<Float8> outputGrad8, ArrayView<Float8> z8, ConvGeometry g, int filters, int tile, int r, int rows);

    /// <summary>
    /// The 3×3 kernel gradient of eight (c, f) pairs, Float8 <paramref name="item"/> of a slab of
    /// pairs8: Gᵀ m G of the products m_e, each summed over <paramref name="chunks"/> slabs of
    /// products (Elements·pairs8 Float8s apart), stored at tap·pairs8 + item (taps kh·3 + kw).
    /// </summary>
    void KernelGrad(ArrayView<Float8> products8, ArrayView<Float8> kernelGrad8, int item, int pairs8, int chunks);
}

/// <summary>
/// The output-gradient pixels of an m×m output tile (m ≤ 4): the Float8 offsets of its clamped
/// rows and columns, and whether each lies inside the image (1) or not (0).
/// </summary>
readonly struct GradientTile
{
    readonly int row0, row1, row2, row3, col0, col1, col2, col3;
    readonly float in0, in1, in2, in3, inCol0, inCol1, inCol2, inCol3;

    public GradientTile(ConvGeometry g, PixelIndex at, int size, int groups)
    {
        int image = at.Image * g.OutHeight, y = size * at.Y, x = size * at.X;
        row0 = Row(g, image, y, groups); in0 = Conv2dWinogradKernels.Inside(y, g.OutHeight);
        row1 = Row(g, image, y + 1, groups); in1 = Conv2dWinogradKernels.Inside(y + 1, g.OutHeight);
        row2 = Row(g, image, y + 2, groups); in2 = Conv2dWinogradKernels.Inside(y + 2, g.OutHeight);
        row3 = Row(g, image, y + 3, groups); in3 = Conv2dWinogradKernels.Inside(y + 3, g.OutHeight);
        col0 = Column(g, x, groups); inCol0 = Conv2dWinogradKernels.Inside(x, g.OutWidth);
        col1 = Column(g, x + 1, groups); inCol1 = Conv2dWinogradKernels.Inside(x + 1, g.OutWidth);
        col2 = Column(g, x + 2, groups); inCol2 = Conv2dWinogradKernels.Inside(x + 2, g.OutWidth);
        col3 = Column(g, x + 3, groups); inCol3 = Conv2dWinogradKernels.Inside(x + 3, g.OutWidth);
    }

    static int Row(ConvGeometry g, int image, int y, int groups) => (image + XMath.Clamp(y, 0, g.OutHeight - 1)) * g.OutWidth * groups;

    static int Column(ConvGeometry g, int x, int groups) => XMath.Clamp(x, 0, g.OutWidth - 1) * groups;

    /// <summary>Pixel (i, j) of the tile (constants where it is called), sixteen filters from group k; 0 outside the image.</summary>
    public Float8Pair Pixel(ArrayView<Float8> outputGrad8, int i, int j, int k)
    {
        int row = i == 0 ? row0 : i == 1 ? row1 : i == 2 ? row2 : row3, column = j == 0 ? col0 : j == 1 ? col1 : j == 2 ? col2 : col3;
        float inside = (i == 0 ? in0 : i == 1 ? in1 : i == 2 ? in2 : in3) * (j == 0 ? inCol0 : j == 1 ? inCol1 : j == 2 ? inCol2 : inCol3);
        return inside * Float8Pair.Load(outputGrad8, row + column + k);
    }
}

/// <summary>
/// F(2×2, 3×3) (Lavin and Gray, 2015): 16 elements. Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],
/// G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1], Aᵀ = [1 1 1 0; 0 1 -1 -1].
/// </summary>
public struct WinogradF2 : IWinogradTransform
{
    public readonly int Size => 2;

    public readonly int Elements => 16;

    public readonly void Filter(ArrayView<Float8> u8, int item, int stride8, in Float8 g00, in Float8 g01, in Float8 g02,
        in Float8 g10, in Float8 g11, in Float8 g12, in Float8 g20, in Float8 g21, in Float8 g22)
    {
        // Rows of G·g, then columns: (G g) Gᵀ.
        FilterRow(u8, item, stride8, 0, g00, g01, g02);
        FilterRow(u8, item, stride8, 1, 0.5f * (g00 + g10 + g20), 0.5f * (g01 + g11 + g21), 0.5f * (g02 + g12 + g22));
        FilterRow(u8, item, stride8, 2, 0.5f * (g00 - g10 + g20), 0.5f * (g01 - g11 + g21), 0.5f * (g02 - g12 + g22));
        FilterRow(u8, item, stride8, 3, g20, g21, g22);
    }

    /// <summary>Row r of (G g) Gᵀ from row r of G g: elements e = 4r .. 4r+3.</summary>
    static void FilterRow(ArrayView<Float8> u8, int item, int stride8, int r, in Float8 x0, in Float8 x1, in Float8 x2)
    {
        int e = 4 * r;
        u8[e * stride8 + item] = x0;
        u8[(e + 1) * stride8 + item] = 0.5f * (x0 + x1 + x2);
        u8[(e + 2) * stride8 + item] = 0.5f * (x0 - x1 + x2);
        u8[(e + 3) * stride8 + item] = x2;
    }

    public readonly void Input(ArrayView<Float8> input8, ArrayView<Float8> v8, ConvGeometry g, int tile, int r, int rows)
    {
        int groups = g.InChannels / 8;
        var at = new PixelIndex(tile, Conv2dWinogradKernels.TileRows(g, 2), Conv2dWinogradKernels.TileColumns(g, 2));
        var taps = new TileTaps(g, at.Image * g.InHeight, 2 * at.Y - g.Padding, 2 * at.X - g.Padding, groups);
        int elementStride = rows * groups, target = r * groups;
        // Sixteen channels at a time (Cin in multiples of 16), so each value is a 512-bit pair.
        for (int k = 0; k < groups; k += 2)
        {
            taps.Row(input8, 0, k, out var d00, out var d01, out var d02, out var d03);
            taps.Row(input8, 1, k, out var d10, out var d11, out var d12, out var d13);
            taps.Row(input8, 2, k, out var d20, out var d21, out var d22, out var d23);
            taps.Row(input8, 3, k, out var d30, out var d31, out var d32, out var d33);
            // Rows of Bᵀ d (t0 = d0 - d2, t1 = d1 + d2, t2 = d2 - d1, t3 = d1 - d3); then each row's columns.
            InputRow(v8, target + k, elementStride, 0, d00 - d20, d01 - d21, d02 - d22, d03 - d23);
            InputRow(v8, target + k, elementStride, 1, d10 + d20, d11 + d21, d12 + d22, d13 + d23);
            InputRow(v8, target + k, elementStride, 2, d20 - d10, d21 - d11, d22 - d12, d23 - d13);
            InputRow(v8, target + k, elementStride, 3, d10 - d30, d11 - d31, d12 - d32, d13 - d33);
        }
    }

    /// <summary>A 4×4 input tile's taps: the Float8 offsets of its (clamped) rows and columns, and whether each lies inside the image (1) or not (0).</summary>
    readonly struct TileTaps
    {
        readonly int row0, row1, row2, row3, col0, col1, col2, col3;
        readonly float in0, in1, in2, in3, inCol0, inCol1, inCol2, inCol3;

        public TileTaps(ConvGeometry g, int image, int y, int x, int groups)
        {
            row0 = RowStart(g, image, y, groups); in0 = Conv2dWinogradKernels.Inside(y, g.InHeight);
            row1 = RowStart(g, image, y + 1, groups); in1 = Conv2dWinogradKernels.Inside(y + 1, g.InHeight);
            row2 = RowStart(g, image, y + 2, groups); in2 = Conv2dWinogradKernels.Inside(y + 2, g.InHeight);
            row3 = RowStart(g, image, y + 3, groups); in3 = Conv2dWinogradKernels.Inside(y + 3, g.InHeight);
            col0 = XMath.Clamp(x, 0, g.InWidth - 1) * groups; inCol0 = Conv2dWinogradKernels.Inside(x, g.InWidth);
            col1 = XMath.Clamp(x + 1, 0, g.InWidth - 1) * groups; inCol1 = Conv2dWinogradKernels.Inside(x + 1, g.InWidth);
            col2 = XMath.Clamp(x + 2, 0, g.InWidth - 1) * groups; inCol2 = Conv2dWinogradKernels.Inside(x + 2, g.InWidth);
            col3 = XMath.Clamp(x + 3, 0, g.InWidth - 1) * groups; inCol3 = Conv2dWinogradKernels.Inside(x + 3, g.InWidth);
        }

        static int RowStart(ConvGeometry g, int image, int y, int groups) => (image + XMath.Clamp(y, 0, g.InHeight - 1)) * g.InWidth * groups;

        /// <summary>Row i (0-3, a constant where it is called) of the tile, sixteen channels from group k: four taps, 0 outside the image.</summary>
        public void Row(ArrayView<Float8> input8, int i, int k, out Float8Pair d0, out Float8Pair d1, out Float8Pair d2, out Float8Pair d3)
        {
            int row = (i == 0 ? row0 : i == 1 ? row1 : i == 2 ? row2 : row3) + k;
            float inside = i == 0 ? in0 : i == 1 ? in1 : i == 2 ? in2 : in3;
            d0 = (inside * inCol0) * Float8Pair.Load(input8, row + col0);
            d1 = (inside * inCol1) * Float8Pair.Load(input8, row + col1);
            d2 = (inside * inCol2) * Float8Pair.Load(input8, row + col2);
            d3 = (inside * inCol3) * Float8Pair.Load(input8, row + col3);
        }
    }

    /// <summary>Row r of (Bᵀ d) B from row r of Bᵀ d, sixteen channels.</summary>
    static void InputRow(ArrayView<Float8> v8, int target, int elementStride, int r, in Float8Pair t0, in Float8Pair t1, in Float8Pair t2, in Float8Pair t3)
    {
        int e = 4 * r;
        (t0 - t2).Store(v8, e * elementStride + target);
        (t1 + t2).Store(v8, (e + 1) * elementStride + target);
        (t2 - t1).Store(v8, (e + 2) * elementStride + target);
        (t1 - t3).Store(v8, (e + 3) * elementStride + target);
    }

    public readonly void Output(ArrayView<Float8> m8, ArrayView<Float8> output8, ArrayView<float> bias, ConvGeometry g,
        GemmArgs epilogue, int tile, int at, int elementStride, int col8)
    {
        // Rows of Aᵀ m (s0 = m0 + m1 + m2, s1 = m1 - m2 - m3), sixteen filters.
        ProductColumn(m8, at, elementStride, 0, out var s00, out var s10);
        ProductColumn(m8, at, elementStride, 1, out var s01, out var s11);
        ProductColumn(m8, at, elementStride, 2, out var s02, out var s12);
        ProductColumn(m8, at, elementStride, 3, out var s03, out var s13);
        var p = new PixelIndex(tile, Conv2dWinogradKernels.TileRows(g, 2), Conv2dWinogradKernels.TileColumns(g, 2));
        int oy = 2 * p.Y, ox = 2 * p.X;
        int filters8 = epilogue.N / 8;
        int pixel = (p.Image * g.OutHeight + oy) * g.OutWidth + ox;
        bool right = ox + 1 < g.OutWidth;
        Store(output8, bias, epilogue, pixel * filters8 + col8, col8, s00 + s01 + s02);
        if (right) Store(output8, bias, epilogue, (pixel + 1) * filters8 + col8, col8, s01 - s02 - s03);
        if (oy + 1 < g.OutHeight)
        {
            int below = pixel + g.OutWidth;
            Store(output8, bias, epilogue, below * filters8 + col8, col8, s10 + s11 + s12);
            if (right) Store(output8, bias, epilogue, (below + 1) * filters8 + col8, col8, s11 - s12 - s13);
        }
    }

    static void Store(ArrayView<Float8> output8, ArrayView<float> bias, GemmArgs epilogue, int target, int col8, in Float8Pair y) =>
        GemmKernels.StoreTileRow(output8, bias, epilogue, target, col8, y.Left, y.Right);

    /// <summary>Column j of Aᵀ m for sixteen filters: s0 = m0j + m1j + m2j, s1 = m1j - m2j - m3j.</summary>
    static void ProductColumn(ArrayView<Float8> m8, int at, int elementStride, int j, out Float8Pair s0, out Float8Pair s1)
    {
        Float8Pair m0 = Float8Pair.Load(m8, j * elementStride + at), m1 = Float8Pair.Load(m8, (4 + j) * elementStride + at);
        Float8Pair m2 = Float8Pair.Load(m8, (8 + j) * elementStride + at), m3 = Float8Pair.Load(m8, (12 + j) * elementStride + at);
        s0 = m0 + m1 + m2;
        s1 = m1 - m2 - m3;
    }

    public readonly void OutputGrad(ArrayView<Float8> outputGrad8, ArrayView<Float8> z8, ConvGeometry g, int filters, int tile, int r, int rows)
    {
        int groups = filters / 8;
        var at = new PixelIndex(tile, Conv2dWinogradKernels.TileRows(g, 2), Conv2dWinogradKernels.TileColumns(g, 2));
        var pixels = new GradientTile(g, at, 2, groups);
        int elementStride = rows * groups, target = r * groups;
        for (int k = 0; k < groups; k += 2)
        {
            // Rows of dz times Aᵀ (A·(x0, x1) = (x0, x0 + x1, x0 - x1, -x1)), then A on the columns.
            Float8Pair a0 = pixels.Pixel(outputGrad8, 0, 0, k), a1 = pixels.Pixel(outputGrad8, 0, 1, k);
            Float8Pair b0 = pixels.Pixel(outputGrad8, 1, 0, k), b1 = pixels.Pixel(outputGrad8, 1, 1, k);
            Float8Pair h01 = a0 + a1, h02 = a0 - a1, h11 = b0 + b1, h12 = b0 - b1;
            int t = target + k;
            GradientRow(z8, t, elementStride, 0, a0, h01, h02, -1f * a1);
            GradientRow(z8, t, elementStride, 1, a0 + b0, h01 + h11, h02 + h12, -1f * (a1 + b1));
            GradientRow(z8, t, elementStride, 2, a0 - b0, h01 - h11, h02 - h12, b1 - a1);
            GradientRow(z8, t, elementStride, 3, -1f * b0, -1f * h11, -1f * h12, b1);
        }
    }

    /// <summary>Row r of A dz Aᵀ: elements 4r .. 4r+3.</summary>
    static void GradientRow(ArrayView<Float8> z8, int target, int elementStride, int r, in Float8Pair z0, in Float8Pair z1, in Float8Pair z2, in Float8Pair z3)
    {
        int e = 4 * r;
        z0.Store(z8, e * elementStride + target);
        z1.Store(z8, (e + 1) * elementStride + target);
        z2.Store(z8, (e + 2) * elementStride + target);
        z3.Store(z8, (e + 3) * elementStride + target);
    }

    public readonly void KernelGrad(ArrayView<Float8> products8, ArrayView<Float8> kernelGrad8, int item, int pairs8, int chunks)
    {
        // Each row of m times G (Gᵀ·(p0 .. p3) = (p0 + ½(p1 + p2), ½(p1 - p2), ½(p1 + p2) + p3)), then Gᵀ on the columns.
        KernelGradRow(products8, item, pairs8, chunks, 0, out var h00, out var h01, out var h02);
        KernelGradRow(products8, item, pairs8, chunks, 1, out var h10, out var h11, out var h12);
        KernelGradRow(products8, item, pairs8, chunks, 2, out var h20, out var h21, out var h22);
        KernelGradRow(products8, item, pairs8, chunks, 3, out var h30, out var h31, out var h32);
        KernelGradColumn(kernelGrad8, item, pairs8, 0, h00, h10, h20, h30);
        KernelGradColumn(kernelGrad8, item, pairs8, 1, h01, h11, h21, h31);
        KernelGradColumn(kernelGrad8, item, pairs8, 2, h02, h12, h22, h32);
    }

    /// <summary>Row i of m (elements 4i .. 4i+3, each summed over the chunks) times G.</summary>
    static void KernelGradRow(ArrayView<Float8> products8, int item, int pairs8, int chunks, int i, out Float8 y0, out Float8 y1, out Float8 y2)
    {
        int at = 4 * i * pairs8 + item, slab8 = 16 * pairs8;
        KernelGradTransform(Conv2dWinogradKernels.ChunkSum(products8, at, slab8, chunks),
            Conv2dWinogradKernels.ChunkSum(products8, at + pairs8, slab8, chunks),
            Conv2dWinogradKernels.ChunkSum(products8, at + 2 * pairs8, slab8, chunks),
            Conv2dWinogradKernels.ChunkSum(products8, at + 3 * pairs8, slab8, chunks), out y0, out y1, out y2);
    }

    /// <summary>Taps (0, j), (1, j), (2, j): Gᵀ on column j of m G.</summary>
    static void KernelGradColumn(ArrayView<Float8> kernelGrad8, int item, int pairs8, int j, in Float8 p0, in Float8 p1, in Float8 p2, in Float8 p3)
    {
        KernelGradTransform(p0, p1, p2, p3, out var y0, out var y1, out var y2);
        kernelGrad8[j * pairs8 + item] = y0;
        kernelGrad8[(3 + j) * pairs8 + item] = y1;
        kernelGrad8[(6 + j) * pairs8 + item] = y2;
    }

    /// <summary>Gᵀ·(p0 .. p3).</summary>
    static void KernelGradTransform(in Float8 p0, in Float8 p1, in Float8 p2, in Float8 p3, out Float8 y0, out Float8 y1, out Float8 y2)
    {
        Float8 half = 0.5f * (p1 + p2);
        y0 = p0 + half;
        y1 = 0.5f * (p1 - p2);
        y2 = half + p3;
    }
}

/// <summary>
/// F(4×4, 3×3) (Lavin and Gray, 2015, points 0, ±1, ±2, ∞): 36 elements for 16 outputs, 2.25
/// multiplies an output where F(2×2, 3×3) takes 4, and fewer transform loads and stores per
/// output too; its transforms carry larger constants, so it rounds further from the direct sum.
/// Bᵀ = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1],
/// G = [¼ 0 0; -⅙ -⅙ -⅙; -⅙ ⅙ -⅙; 1/24 1/12 ⅙; 1/24 -1/12 ⅙; 0 0 1],
/// Aᵀ = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1].
/// Each 2-D transform is two passes of the 1-D one (rows, then columns) through the slabs it
/// writes, so a work-item holds one row of six values (sixteen channels each) at a time, not 36.
/// </summary>
public struct WinogradF4 : IWinogradTransform
{
    public readonly int Size => 4;

    public readonly int Elements => 36;

    public readonly void Filter(ArrayView<Float8> u8, int item, int stride8, in Float8 g00, in Float8 g01, in Float8 g02,
        in Float8 g10, in Float8 g11, in Float8 g12, in Float8 g20, in Float8 g21, in Float8 g22)
    {
        // h = G g, column by column (h_ij: row i of G g, column j), then each row of h times Gᵀ.
        FilterTransform(g00, g10, g20, out var h00, out var h10, out var h20, out var h30, out var h40, out var h50);
        FilterTransform(g01, g11, g21, out var h01, out var h11, out var h21, out var h31, out var h41, out var h51);
        FilterTransform(g02, g12, g22, out var h02, out var h12, out var h22, out var h32, out var h42, out var h52);
        FilterRow(u8, item, stride8, 0, h00, h01, h02);
        FilterRow(u8, item, stride8, 1, h10, h11, h12);
        FilterRow(u8, item, stride8, 2, h20, h21, h22);
        FilterRow(u8, item, stride8, 3, h30, h31, h32);
        FilterRow(u8, item, stride8, 4, h40, h41, h42);
        FilterRow(u8, item, stride8, 5, h50, h51, h52);
    }

    /// <summary>G·(x0, x1, x2).</summary>
    static void FilterTransform(in Float8 x0, in Float8 x1, in Float8 x2,
        out Float8 u0, out Float8 u1, out Float8 u2, out Float8 u3, out Float8 u4, out Float8 u5)
    {
        Float8 outer = x0 + x2, quarter = (1f / 24) * x0 + (1f / 6) * x2, middle = (1f / 12) * x1;
        u0 = 0.25f * x0;
        u1 = (-1f / 6) * (outer + x1);
        u2 = (-1f / 6) * (outer - x1);
        u3 = quarter + middle;
        u4 = quarter - middle;
        u5 = x2;
    }

    /// <summary>Row r of (G g) Gᵀ from row r of G g: elements e = 6r .. 6r+5.</summary>
    static void FilterRow(ArrayView<Float8> u8, int item, int stride8, int r, in Float8 x0, in Float8 x1, in Float8 x2)
    {
        FilterTransform(x0, x1, x2, out var u0, out var u1, out var u2, out var u3, out var u4, out var u5);
        int at = 6 * r * stride8 + item;
        u8[at] = u0;
        u8[at + stride8] = u1;
        u8[at + 2 * stride8] = u2;
        u8[at + 3 * stride8] = u3;
        u8[at + 4 * stride8] = u4;
        u8[at + 5 * stride8] = u5;
    }

    public readonly void Input(ArrayView<Float8> input8, ArrayView<Float8> v8, ConvGeometry g, int tile, int r, int rows)
    {
        int groups = g.InChannels / 8;
        var at = new PixelIndex(tile, Conv2dWinogradKernels.TileRows(g, 4), Conv2dWinogradKernels.TileColumns(g, 4));
        int image = at.Image * g.InHeight, y = 4 * at.Y - g.Padding, x = 4 * at.X - g.Padding;
        var columns = new TapColumns(g, x, groups);
        int elementStride = rows * groups, target = r * groups, rowStride = 6 * elementStride;
        // Sixteen channels at a time (Cin in multiples of 16). The six rows and columns are written
        // out, not looped over: LLVM's loop vectoriser turned such loops into gathers and scatters
        // across the slabs.
        for (int k = 0; k < groups; k += 2)
        {
            int t = target + k;
            // d B, row by row of the tile, into slabs 6i .. 6i+5 ...
            columns.Read(input8, v8, g, image, y, k, 0, t, rowStride, elementStride);
            columns.Read(input8, v8, g, image, y, k, 1, t, rowStride, elementStride);
            columns.Read(input8, v8, g, image, y, k, 2, t, rowStride, elementStride);
            columns.Read(input8, v8, g, image, y, k, 3, t, rowStride, elementStride);
            columns.Read(input8, v8, g, image, y, k, 4, t, rowStride, elementStride);
            columns.Read(input8, v8, g, image, y, k, 5, t, rowStride, elementStride);
            // ... then Bᵀ (d B), column by column, over them.
            InputColumn(v8, t, rowStride);
            InputColumn(v8, elementStride + t, rowStride);
            InputColumn(v8, 2 * elementStride + t, rowStride);
            InputColumn(v8, 3 * elementStride + t, rowStride);
            InputColumn(v8, 4 * elementStride + t, rowStride);
            InputColumn(v8, 5 * elementStride + t, rowStride);
        }
    }

    /// <summary>The clamped Float8 offsets of an input tile's six columns, and whether each lies inside the image (1) or not (0).</summary>
    readonly struct TapColumns
    {
        readonly int col0, col1, col2, col3, col4, col5;
        readonly float in0, in1, in2, in3, in4, in5;

        public TapColumns(ConvGeometry g, int x, int groups)
        {
            col0 = Column(g, x, groups); in0 = Conv2dWinogradKernels.Inside(x, g.InWidth);
            col1 = Column(g, x + 1, groups); in1 = Conv2dWinogradKernels.Inside(x + 1, g.InWidth);
            col2 = Column(g, x + 2, groups); in2 = Conv2dWinogradKernels.Inside(x + 2, g.InWidth);
            col3 = Column(g, x + 3, groups); in3 = Conv2dWinogradKernels.Inside(x + 3, g.InWidth);
            col4 = Column(g, x + 4, groups); in4 = Conv2dWinogradKernels.Inside(x + 4, g.InWidth);
            col5 = Column(g, x + 5, groups); in5 = Conv2dWinogradKernels.Inside(x + 5, g.InWidth);
        }

        static int Column(ConvGeometry g, int x, int groups) => XMath.Clamp(x, 0, g.InWidth - 1) * groups;

        /// <summary>
        /// Row i of the tile (input row y + i), sixteen channels from group k, transformed along
        /// the row into slabs 6i .. 6i+5 at t: (d B)_i0 .. (d B)_i5, taps outside the image 0.
        /// </summary>
        public void Read(ArrayView<Float8> input8, ArrayView<Float8> v8, ConvGeometry g, int image, int y, int k, int i,
            int t, int rowStride, int elementStride)
        {
            int groups = g.InChannels / 8, row = (image + XMath.Clamp(y + i, 0, g.InHeight - 1)) * g.InWidth * groups + k;
            float inside = Conv2dWinogradKernels.Inside(y + i, g.InHeight);
            InputTransform((inside * in0) * Float8Pair.Load(input8, row + col0), (inside * in1) * Float8Pair.Load(input8, row + col1),
                (inside * in2) * Float8Pair.Load(input8, row + col2), (inside * in3) * Float8Pair.Load(input8, row + col3),
                (inside * in4) * Float8Pair.Load(input8, row + col4), (inside * in5) * Float8Pair.Load(input8, row + col5),
                out var t0, out var t1, out var t2, out var t3, out var t4, out var t5);
            StoreSlabs(v8, i * rowStride + t, elementStride, t0, t1, t2, t3, t4, t5);
        }
    }

    /// <summary>Bᵀ·(d0 .. d5).</summary>
    static void InputTransform(in Float8Pair d0, in Float8Pair d1, in Float8Pair d2, in Float8Pair d3, in Float8Pair d4, in Float8Pair d5,
        out Float8Pair t0, out Float8Pair t1, out Float8Pair t2, out Float8Pair t3, out Float8Pair t4, out Float8Pair t5)
    {
        Float8Pair outer4 = d4 - 4f * d2, inner4 = 4f * d1 - d3, outer2 = d4 - d2, inner2 = 2f * (d1 - d3);
        t0 = 4f * (d0 - d2) + outer2;
        t1 = outer4 - inner4;
        t2 = outer4 + inner4;
        t3 = outer2 - inner2;
        t4 = outer2 + inner2;
        t5 = 4f * (d1 - d3) + (d5 - d3);
    }

    /// <summary>Column j of Bᵀ w, the six slabs from <paramref name="at"/>, <paramref name="rowStride"/> apart, in place.</summary>
    static void InputColumn(ArrayView<Float8> v8, int at, int rowStride)
    {
        InputTransform(Float8Pair.Load(v8, at), Float8Pair.Load(v8, at + rowStride), Float8Pair.Load(v8, at + 2 * rowStride),
            Float8Pair.Load(v8, at + 3 * rowStride), Float8Pair.Load(v8, at + 4 * rowStride), Float8Pair.Load(v8, at + 5 * rowStride),
            out var t0, out var t1, out var t2, out var t3, out var t4, out var t5);
        StoreSlabs(v8, at, rowStride, t0, t1, t2, t3, t4, t5);
    }

    /// <summary>Six pairs at <paramref name="at"/>, <paramref name="stride"/> apart.</summary>
    static void StoreSlabs(ArrayView<Float8> v8, int at, int stride, in Float8Pair x0, in Float8Pair x1, in Float8Pair x2, in Float8Pair x3,
        in Float8Pair x4, in Float8Pair x5)
    {
        x0.Store(v8, at);
        x1.Store(v8, at + stride);
        x2.Store(v8, at + 2 * stride);
        x3.Store(v8, at + 3 * stride);
        x4.Store(v8, at + 4 * stride);
        x5.Store(v8, at + 5 * stride);
    }

    public readonly void Output(ArrayView<Float8> m8, ArrayView<Float8> output8, ArrayView<float> bias, ConvGeometry g,
        GemmArgs epilogue, int tile, int at, int elementStride, int col8)
    {
        // Aᵀ m, column by column, into the first four slab rows of each column (written out, as in Input) ...
        int rowStride = 6 * elementStride;
        OutputColumn(m8, at, rowStride);
        OutputColumn(m8, elementStride + at, rowStride);
        OutputColumn(m8, 2 * elementStride + at, rowStride);
        OutputColumn(m8, 3 * elementStride + at, rowStride);
        OutputColumn(m8, 4 * elementStride + at, rowStride);
        OutputColumn(m8, 5 * elementStride + at, rowStride);
        // ... then (Aᵀ m) A, row by row, into the output.
        var p = new PixelIndex(tile, Conv2dWinogradKernels.TileRows(g, 4), Conv2dWinogradKernels.TileColumns(g, 4));
        int oy = 4 * p.Y, ox = 4 * p.X;
        int pixel = (p.Image * g.OutHeight + oy) * g.OutWidth + ox, columns = XMath.Min(4, g.OutWidth - ox), rows = g.OutHeight - oy;
        OutputRow(m8, output8, bias, g, epilogue, at, elementStride, col8, pixel, columns);
        if (rows > 1) OutputRow(m8, output8, bias, g, epilogue, rowStride + at, elementStride, col8, pixel + g.OutWidth, columns);
        if (rows > 2) OutputRow(m8, output8, bias, g, epilogue, 2 * rowStride + at, elementStride, col8, pixel + 2 * g.OutWidth, columns);
        if (rows > 3) OutputRow(m8, output8, bias, g, epilogue, 3 * rowStride + at, elementStride, col8, pixel + 3 * g.OutWidth, columns);
    }

    /// <summary>Column j of Aᵀ m, the six slab rows from <paramref name="at"/>, <paramref name="rowStride"/> apart, into the first four.</summary>
    static void OutputColumn(ArrayView<Float8> m8, int at, int rowStride)
    {
        OutputTransform(m8, at, rowStride, out var y0, out var y1, out var y2, out var y3);
        y0.Store(m8, at);
        y1.Store(m8, at + rowStride);
        y2.Store(m8, at + 2 * rowStride);
        y3.Store(m8, at + 3 * rowStride);
    }

    /// <summary>One output row of the tile: (Aᵀ m) A of the row's six slabs from <paramref name="at"/>, its first <paramref name="columns"/> pixels from <paramref name="pixel"/> on.</summary>
    static void OutputRow(ArrayView<Float8> m8, ArrayView<Float8> output8, ArrayView<float> bias, ConvGeometry g, GemmArgs epilogue,
        int at, int elementStride, int col8, int pixel, int columns)
    {
        int filters8 = epilogue.N / 8, target = pixel * filters8 + col8;
        OutputTransform(m8, at, elementStride, out var y0, out var y1, out var y2, out var y3);
        GemmKernels.StoreTileRow(output8, bias, epilogue, target, col8, y0.Left, y0.Right);
        if (columns > 1) GemmKernels.StoreTileRow(output8, bias, epilogue, target + filters8, col8, y1.Left, y1.Right);
        if (columns > 2) GemmKernels.StoreTileRow(output8, bias, epilogue, target + 2 * filters8, col8, y2.Left, y2.Right);
        if (columns > 3) GemmKernels.StoreTileRow(output8, bias, epilogue, target + 3 * filters8, col8, y3.Left, y3.Right);
    }

    /// <summary>Aᵀ·(m0 .. m5) of the six pairs at <paramref name="at"/>, <paramref name="stride"/> apart.</summary>
    static void OutputTransform(ArrayView<Float8> m8, int at, int stride, out Float8Pair y0, out Float8Pair y1, out Float8Pair y2, out Float8Pair y3)
    {
        Float8Pair m1 = Float8Pair.Load(m8, at + stride), m2 = Float8Pair.Load(m8, at + 2 * stride);
        Float8Pair m3 = Float8Pair.Load(m8, at + 3 * stride), m4 = Float8Pair.Load(m8, at + 4 * stride);
        Float8Pair sum12 = m1 + m2, difference12 = m1 - m2, sum34 = m3 + m4, difference34 = m3 - m4;
        y0 = Float8Pair.Load(m8, at) + sum12 + sum34;
        y1 = difference12 + 2f * difference34;
        y2 = sum12 + 4f * sum34;
        y3 = difference12 + 8f * difference34 + Float8Pair.Load(m8, at + 5 * stride);
    }

    public readonly void OutputGrad(ArrayView<Float8> outputGrad8, ArrayView<Float8> z8, ConvGeometry g, int filters, int tile, int r, int rows)
    {
        int groups = filters / 8;
        var at = new PixelIndex(tile, Conv2dWinogradKernels.TileRows(g, 4), Conv2dWinogradKernels.TileColumns(g, 4));
        var pixels = new GradientTile(g, at, 4, groups);
        int elementStride = rows * groups, target = r * groups, rowStride = 6 * elementStride;
        // Sixteen filters at a time, rows and columns written out as in Input.
        for (int k = 0; k < groups; k += 2)
        {
            int t = target + k;
            // dz Aᵀ, row by row of the 4×4 tile, into slabs 6i .. 6i+5 (i < 4) ...
            GradientRow(outputGrad8, z8, pixels, 0, k, t, rowStride, elementStride);
            GradientRow(outputGrad8, z8, pixels, 1, k, t, rowStride, elementStride);
            GradientRow(outputGrad8, z8, pixels, 2, k, t, rowStride, elementStride);
            GradientRow(outputGrad8, z8, pixels, 3, k, t, rowStride, elementStride);
            // ... then A (dz Aᵀ), column by column: four slab rows into six.
            GradientColumn(z8, t, rowStride);
            GradientColumn(z8, elementStride + t, rowStride);
            GradientColumn(z8, 2 * elementStride + t, rowStride);
            GradientColumn(z8, 3 * elementStride + t, rowStride);
            GradientColumn(z8, 4 * elementStride + t, rowStride);
            GradientColumn(z8, 5 * elementStride + t, rowStride);
        }
    }

    /// <summary>Row i of the tile's output gradient times Aᵀ, into slabs 6i .. 6i+5 at t.</summary>
    static void GradientRow(ArrayView<Float8> outputGrad8, ArrayView<Float8> z8, in GradientTile pixels, int i, int k, int t,
        int rowStride, int elementStride)
    {
        GradientTransform(pixels.Pixel(outputGrad8, i, 0, k), pixels.Pixel(outputGrad8, i, 1, k), pixels.Pixel(outputGrad8, i, 2, k),
            pixels.Pixel(outputGrad8, i, 3, k), out var t0, out var t1, out var t2, out var t3, out var t4, out var t5);
        StoreSlabs(z8, i * rowStride + t, elementStride, t0, t1, t2, t3, t4, t5);
    }

    /// <summary>Column j of A w: the first four slab rows from <paramref name="at"/>, <paramref name="rowStride"/> apart, into all six.</summary>
    static void GradientColumn(ArrayView<Float8> z8, int at, int rowStride)
    {
        GradientTransform(Float8Pair.Load(z8, at), Float8Pair.Load(z8, at + rowStride), Float8Pair.Load(z8, at + 2 * rowStride),
            Float8Pair.Load(z8, at + 3 * rowStride), out var t0, out var t1, out var t2, out var t3, out var t4, out var t5);
        StoreSlabs(z8, at, rowStride, t0, t1, t2, t3, t4, t5);
    }

    /// <summary>A·(x0 .. x3), A = Aᵀ's transpose: the weight gradient's transform of the output gradient.</summary>
    static void GradientTransform(in Float8Pair x0, in Float8Pair x1, in Float8Pair x2, in Float8Pair x3,
        out Float8Pair t0, out Float8Pair t1, out Float8Pair t2, out Float8Pair t3, out Float8Pair t4, out Float8Pair t5)
    {
        Float8Pair even = x0 + x2, odd = x1 + x3, even4 = x0 + 4f * x2, odd4 = 2f * x1 + 8f * x3;
        t0 = x0;
        t1 = even + odd;
        t2 = even - odd;
        t3 = even4 + odd4;
        t4 = even4 - odd4;
        t5 = x3;
    }

    public readonly void KernelGrad(ArrayView<Float8> products8, ArrayView<Float8> kernelGrad8, int item, int pairs8, int chunks)
    {
        // Each row of m times G, then Gᵀ on the columns.
        KernelGradRow(products8, item, pairs8, chunks, 0, out var h00, out var h01, out var h02);
        KernelGradRow(products8, item, pairs8, chunks, 1, out var h10, out var h11, out var h12);
        KernelGradRow(products8, item, pairs8, chunks, 2, out var h20, out var h21, out var h22);
        KernelGradRow(products8, item, pairs8, chunks, 3, out var h30, out var h31, out var h32);
        KernelGradRow(products8, item, pairs8, chunks, 4, out var h40, out var h41, out var h42);
        KernelGradRow(products8, item, pairs8, chunks, 5, out var h50, out var h51, out var h52);
        KernelGradColumn(kernelGrad8, item, pairs8, 0, h00, h10, h20, h30, h40, h50);
        KernelGradColumn(kernelGrad8, item, pairs8, 1, h01, h11, h21, h31, h41, h51);
        KernelGradColumn(kernelGrad8, item, pairs8, 2, h02, h12, h22, h32, h42, h52);
    }

    /// <summary>Row i of m (elements 6i .. 6i+5, each summed over the chunks) times G.</summary>
    static void KernelGradRow(ArrayView<Float8> products8, int item, int pairs8, int chunks, int i, out Float8 y0, out Float8 y1, out Float8 y2)
    {
        int at = 6 * i * pairs8 + item, slab8 = 36 * pairs8;
        KernelGradTransform(Conv2dWinogradKernels.ChunkSum(products8, at, slab8, chunks),
            Conv2dWinogradKernels.ChunkSum(products8, at + pairs8, slab8, chunks),
            Conv2dWinogradKernels.ChunkSum(products8, at + 2 * pairs8, slab8, chunks),
            Conv2dWinogradKernels.ChunkSum(products8, at + 3 * pairs8, slab8, chunks),
            Conv2dWinogradKernels.ChunkSum(products8, at + 4 * pairs8, slab8, chunks),
            Conv2dWinogradKernels.ChunkSum(products8, at + 5 * pairs8, slab8, chunks), out y0, out y1, out y2);
    }

    /// <summary>Taps (0, j), (1, j), (2, j): Gᵀ on column j of m G.</summary>
    static void KernelGradColumn(ArrayView<Float8> kernelGrad8, int item, int pairs8, int j, in Float8 p0, in Float8 p1, in Float8 p2,
        in Float8 p3, in Float8 p4, in Float8 p5)
    {
        KernelGradTransform(p0, p1, p2, p3, p4, p5, out var y0, out var y1, out var y2);
        kernelGrad8[j * pairs8 + item] = y0;
        kernelGrad8[(3 + j) * pairs8 + item] = y1;
        kernelGrad8[(6 + j) * pairs8 + item] = y2;
    }

    /// <summary>Gᵀ·(p0 .. p5): the weight gradient's output transform.</summary>
    static void KernelGradTransform(in Float8 p0, in Float8 p1, in Float8 p2, in Float8 p3, in Float8 p4, in Float8 p5,
        out Float8 y0, out Float8 y1, out Float8 y2)
    {
        Float8 sum12 = p1 + p2, sum34 = p3 + p4;
        y0 = 0.25f * p0 - (1f / 6) * sum12 + (1f / 24) * sum34;
        y1 = (-1f / 6) * (p1 - p2) + (1f / 12) * (p3 - p4);
        y2 = (1f / 6) * (sum34 - sum12) + p5;
    }
}
