using ILGPU;
using ILGPU.Algorithms;

namespace GpuCnn.Kernels;

/// <summary>
/// A register tile of the implicit convolutions: <see cref="Rows"/> rows × 8·<see cref="Columns8"/>
/// columns (16 or 32 filters), its accumulators in registers. Row k multiplies input[base_k + shift] into the
/// columns: the forward pass walks shift along a receptive-field row with one base per output
/// pixel, the weight gradient walks it over output pixels with one base per kernel tap. Every
/// tile adds each output's terms in the same order, so the tiles differ in speed, never in
/// results; the launcher measures which is fastest on a device (KernelLauncher.TileRowsFor).
/// </summary>
public interface IRegisterTile
{
    /// <summary>Rows of A (output pixels or kernel taps) per tile.</summary>
    int Rows { get; }

    /// <summary>Float8 columns per row: 2 (16 filters) or 4 (32).</summary>
    int Columns8 { get; }

    /// <summary>Bases: the receptive-field corners of output pixels row0, row0+1, ... of rows; past the last, the last again (never stored). Steps (n, oy, ox) past them.</summary>
    void BasesFromPixels(ConvGeometry g, int row0, int rows, ref int n, ref int oy, ref int ox);

    /// <summary>Bases: the offsets of kernel rows i0, i0+1, ... from a receptive field's corner; past the last of width rows, the last again.</summary>
    void BasesFromTaps(ConvGeometry g, int i0, int width);

    /// <summary>Bases: row k at first + k·stride (rows of a matrix stored one after another).</summary>
    void BasesFromStride(int first, int stride);

    /// <summary>Zeroes the accumulators.</summary>
    void Clear();

    /// <summary>Row k += input[base_k + shift] · b8[b .. b + Columns8 - 1]: one multiply-add per lane.</summary>
    void MultiplyAdd(ArrayView<float> input, int shift, ArrayView<Float8> b8, int b);

    /// <summary>Stores rows 0 .. valid-1 (at most Rows), Columns8 Float8 each, at offset, offset + rowStride8, ... through the epilogue (bias, ReLU).</summary>
    void Store(ArrayView<Float8> c8, ArrayView<float> bias, GemmArgs epilogue, int offset, int rowStride8, int col8, int valid);

    /// <summary>Adds every row to what c8 holds at offset, offset + rowStride8, ...: a sum built over several passes of the tile.</summary>
    void AddTo(ArrayView<Float8> c8, int offset, int rowStride8);
}

/// <summary>A tile of 16 columns, which also takes its two B vectors as values (Conv2dWeightGradMaxPool makes dZ as it goes).</summary>
public interface IRegisterTile16 : IRegisterTile
{
    /// <summary>Row k += input[base_k + shift] · (left, right).</summary>
    void MultiplyAdd(ArrayView<float> input, int shift, in Float8 left, in Float8 right);
}

/// <summary>4 rows × 16 columns: 8 accumulators.</summary>
public struct RegisterTile4 : IRegisterTile16
{
    int b0, b1, b2, b3;
    Float8 c0L, c0R, c1L, c1R, c2L, c2R, c3L, c3R;

    public readonly int Rows => 4;

    public readonly int Columns8 => 2;

    public void BasesFromPixels(ConvGeometry g, int row0, int rows, ref int n, ref int oy, ref int ox)
    {
        b0 = Conv2dKernels.CornerAndStep(g, ref n, ref oy, ref ox);
        b1 = row0 + 1 < rows ? Conv2dKernels.CornerAndStep(g, ref n, ref oy, ref ox) : b0;
        b2 = row0 + 2 < rows ? Conv2dKernels.CornerAndStep(g, ref n, ref oy, ref ox) : b1;
        b3 = row0 + 3 < rows ? Conv2dKernels.CornerAndStep(g, ref n, ref oy, ref ox) : b2;
    }

    public void BasesFromTaps(ConvGeometry g, int i0, int width)
    {
        int last = width - 1;
        b0 = Conv2dKernels.TapOffset(g, i0);
        b1 = Conv2dKernels.TapOffset(g, XMath.Min(i0 + 1, last));
        b2 = Conv2dKernels.TapOffset(g, XMath.Min(i0 + 2, last));
        b3 = Conv2dKernels.TapOffset(g, XMath.Min(i0 + 3, last));
    }

    public void BasesFromStride(int first, int stride)
    {
        b0 = first; b1 = first + stride; b2 = first + 2 * stride; b3 = first + 3 * stride;
    }

    /// <summary>
    /// Bases of a 2×2 window of output pixels (Conv2dForwardMaxPool): the receptive-field corner
    /// of its first, and of the pixels right of it, below it and below right (right, below: the
    /// input offsets between them).
    /// </summary>
    public void BasesFromWindow(int corner, int right, int below)
    {
        b0 = corner; b1 = corner + right; b2 = corner + below; b3 = corner + below + right;
    }

    public void Clear()
    {
        c0L = default; c0R = default; c1L = default; c1R = default;
        c2L = default; c2R = default; c3L = default; c3R = default;
    }

    /// <summary>
    /// The rows through the epilogue, as Store writes them, then their maximum, the first row on
    /// ties, and its row (MaxPool2DForward over a 2×2 window whose pixels are the rows, in order).
    /// </summary>
    public readonly void MaxOfRows(ArrayView<float> bias, GemmArgs epilogue, int col8,
        out Float8 bestL, out Float8 bestR, out Int8 rowL, out Int8 rowR)
    {
        Float8 l0 = c0L, r0 = c0R, l1 = c1L, r1 = c1R, l2 = c2L, r2 = c2R, l3 = c3L, r3 = c3R;
        GemmKernels.ApplyEpilogue(bias, epilogue, col8, ref l0, ref r0);
        GemmKernels.ApplyEpilogue(bias, epilogue, col8, ref l1, ref r1);
        GemmKernels.ApplyEpilogue(bias, epilogue, col8, ref l2, ref r2);
        GemmKernels.ApplyEpilogue(bias, epilogue, col8, ref l3, ref r3);
        (bestL, bestR, rowL, rowR) = (l0, r0, default, default);
        Lanes.MaxWithTap(ref bestL, ref rowL, l1, 1); Lanes.MaxWithTap(ref bestR, ref rowR, r1, 1);
        Lanes.MaxWithTap(ref bestL, ref rowL, l2, 2); Lanes.MaxWithTap(ref bestR, ref rowR, r2, 2);
        Lanes.MaxWithTap(ref bestL, ref rowL, l3, 3); Lanes.MaxWithTap(ref bestR, ref rowR, r3, 3);
    }

    public void MultiplyAdd(ArrayView<float> input, int shift, ArrayView<Float8> b8, int b) => MultiplyAdd(input, shift, b8[b], b8[b + 1]);

    public void MultiplyAdd(ArrayView<float> input, int shift, in Float8 left, in Float8 right)
    {
        float a0 = input[b0 + shift], a1 = input[b1 + shift], a2 = input[b2 + shift], a3 = input[b3 + shift];
        c0L.MultiplyAdd(a0, left); c0R.MultiplyAdd(a0, right);
        c1L.MultiplyAdd(a1, left); c1R.MultiplyAdd(a1, right);
        c2L.MultiplyAdd(a2, left); c2R.MultiplyAdd(a2, right);
        c3L.MultiplyAdd(a3, left); c3R.MultiplyAdd(a3, right);
    }

    public readonly void Store(ArrayView<Float8> c8, ArrayView<float> bias, GemmArgs epilogue, int offset, int rowStride8, int col8, int valid)
    {
        GemmKernels.StoreTileRow(c8, bias, epilogue, offset, col8, c0L, c0R);
        if (valid > 1) GemmKernels.StoreTileRow(c8, bias, epilogue, offset + rowStride8, col8, c1L, c1R);
        if (valid > 2) GemmKernels.StoreTileRow(c8, bias, epilogue, offset + 2 * rowStride8, col8, c2L, c2R);
        if (valid > 3) GemmKernels.StoreTileRow(c8, bias, epilogue, offset + 3 * rowStride8, col8, c3L, c3R);
    }

    public readonly void AddTo(ArrayView<Float8> c8, int offset, int rowStride8)
    {
        GemmKernels.AddTileRow(c8, offset, c0L, c0R);
        GemmKernels.AddTileRow(c8, offset + rowStride8, c1L, c1R);
        GemmKernels.AddTileRow(c8, offset + 2 * rowStride8, c2L, c2R);
        GemmKernels.AddTileRow(c8, offset + 3 * rowStride8, c3L, c3R);
    }
}

/// <summary>6 rows × 16 columns: 12 accumulators, which hide more of the multiply-add latency and still fit AVX2's 16 vector registers with the two B rows and a broadcast.</summary>
public struct RegisterTile6 : IRegisterTile16
{
    int b0, b1, b2, b3, b4, b5;
    Float8 c0L, c0R, c1L, c1R, c2L, c2R, c3L, c3R, c4L, c4R, c5L, c5R;

    public readonly int Rows => 6;

    public readonly int Columns8 => 2;

    public void BasesFromPixels(ConvGeometry g, int row0, int rows, ref int n, ref int oy, ref int ox)
    {
        b0 = Conv2dKernels.CornerAndStep(g, ref n, ref oy, ref ox);
        b1 = row0 + 1 < rows ? Conv2dKernels.CornerAndStep(g, ref n, ref oy, ref ox) : b0;
        b2 = row0 + 2 < rows ? Conv2dKernels.CornerAndStep(g, ref n, ref oy, ref ox) : b1;
        b3 = row0 + 3 < rows ? Conv2dKernels.CornerAndStep(g, ref n, ref oy, ref ox) : b2;
        b4 = row0 + 4 < rows ? Conv2dKernels.CornerAndStep(g, ref n, ref oy, ref ox) : b3;
        b5 = row0 + 5 < rows ? Conv2dKernels.CornerAndStep(g, ref n, ref oy, ref ox) : b4;
    }

    public void BasesFromTaps(ConvGeometry g, int i0, int width)
    {
        int last = width - 1;
        b0 = Conv2dKernels.TapOffset(g, i0);
        b1 = Conv2dKernels.TapOffset(g, XMath.Min(i0 + 1, last));
        b2 = Conv2dKernels.TapOffset(g, XMath.Min(i0 + 2, last));
        b3 = Conv2dKernels.TapOffset(g, XMath.Min(i0 + 3, last));
        b4 = Conv2dKernels.TapOffset(g, XMath.Min(i0 + 4, last));
        b5 = Conv2dKernels.TapOffset(g, XMath.Min(i0 + 5, last));
    }

    public void BasesFromStride(int first, int stride)
    {
        b0 = first; b1 = first + stride; b2 = first + 2 * stride;
        b3 = first + 3 * stride; b4 = first + 4 * stride; b5 = first + 5 * stride;
    }

    public void Clear()
    {
        c0L = default; c0R = default; c1L = default; c1R = default; c2L = default; c2R = default;
        c3L = default; c3R = default; c4L = default; c4R = default; c5L = default; c5R = default;
    }

    public void MultiplyAdd(ArrayView<float> input, int shift, ArrayView<Float8> b8, int b) => MultiplyAdd(input, shift, b8[b], b8[b + 1]);

    public void MultiplyAdd(ArrayView<float> input, int shift, in Float8 left, in Float8 right)
    {
        float a0 = input[b0 + shift], a1 = input[b1 + shift], a2 = input[b2 + shift];
        float a3 = input[b3 + shift], a4 = input[b4 + shift], a5 = input[b5 + shift];
        c0L.MultiplyAdd(a0, left); c0R.MultiplyAdd(a0, right);
        c1L.MultiplyAdd(a1, left); c1R.MultiplyAdd(a1, right);
        c2L.MultiplyAdd(a2, left); c2R.MultiplyAdd(a2, right);
        c3L.MultiplyAdd(a3, left); c3R.MultiplyAdd(a3, right);
        c4L.MultiplyAdd(a4, left); c4R.MultiplyAdd(a4, right);
        c5L.MultiplyAdd(a5, left); c5R.MultiplyAdd(a5, right);
    }

    public readonly void Store(ArrayView<Float8> c8, ArrayView<float> bias, GemmArgs epilogue, int offset, int rowStride8, int col8, int valid)
    {
        GemmKernels.StoreTileRow(c8, bias, epilogue, offset, col8, c0L, c0R);
        if (valid > 1) GemmKernels.StoreTileRow(c8, bias, epilogue, offset + rowStride8, col8, c1L, c1R);
        if (valid > 2) GemmKernels.StoreTileRow(c8, bias, epilogue, offset + 2 * rowStride8, col8, c2L, c2R);
        if (valid > 3) GemmKernels.StoreTileRow(c8, bias, epilogue, offset + 3 * rowStride8, col8, c3L, c3R);
        if (valid > 4) GemmKernels.StoreTileRow(c8, bias, epilogue, offset + 4 * rowStride8, col8, c4L, c4R);
        if (valid > 5) GemmKernels.StoreTileRow(c8, bias, epilogue, offset + 5 * rowStride8, col8, c5L, c5R);
    }

    public readonly void AddTo(ArrayView<Float8> c8, int offset, int rowStride8)
    {
        GemmKernels.AddTileRow(c8, offset, c0L, c0R);
        GemmKernels.AddTileRow(c8, offset + rowStride8, c1L, c1R);
        GemmKernels.AddTileRow(c8, offset + 2 * rowStride8, c2L, c2R);
        GemmKernels.AddTileRow(c8, offset + 3 * rowStride8, c3L, c3R);
        GemmKernels.AddTileRow(c8, offset + 4 * rowStride8, c4L, c4R);
        GemmKernels.AddTileRow(c8, offset + 5 * rowStride8, c5L, c5R);
    }
}

/// <summary>
/// Two tiles stacked, <typeparamref name="TTop"/>'s rows, then <typeparamref name="TBottom"/>'s:
/// 8 or 12 rows × 16 columns. With 512-bit vectors a row's 16 columns are one register, so a tile
/// of 6 rows has 6 accumulators, too few to hide the multiply-add latency; 12 rows fill 12 of
/// AVX-512's 32 registers.
/// </summary>
public struct StackedTile<TTop, TBottom> : IRegisterTile16
    where TTop : struct, IRegisterTile16 where TBottom : struct, IRegisterTile16
{
#pragma warning disable CS0649 // set through their own methods, which the compiler does not count
    TTop top;
    TBottom bottom;
#pragma warning restore CS0649

    public readonly int Rows => top.Rows + bottom.Rows;

    /// <summary>The top tile's; both tiles have as many.</summary>
    public readonly int Columns8 => top.Columns8;

    public void BasesFromPixels(ConvGeometry g, int row0, int rows, ref int n, ref int oy, ref int ox)
    {
        int n0 = n, oy0 = oy, ox0 = ox;
        top.BasesFromPixels(g, row0, rows, ref n, ref oy, ref ox);
        // Past the last pixel the bottom rows repeat the top's (valid, never stored) bases.
        if (row0 + top.Rows < rows) bottom.BasesFromPixels(g, row0 + top.Rows, rows, ref n, ref oy, ref ox);
        else bottom.BasesFromPixels(g, row0, rows, ref n0, ref oy0, ref ox0);
    }

    public void BasesFromTaps(ConvGeometry g, int i0, int width)
    {
        top.BasesFromTaps(g, i0, width);
        bottom.BasesFromTaps(g, XMath.Min(i0 + top.Rows, width - 1), width);
    }

    public void BasesFromStride(int first, int stride)
    {
        top.BasesFromStride(first, stride);
        bottom.BasesFromStride(first + top.Rows * stride, stride);
    }

    public void Clear()
    {
        top.Clear();
        bottom.Clear();
    }

    public void MultiplyAdd(ArrayView<float> input, int shift, ArrayView<Float8> b8, int b)
    {
        top.MultiplyAdd(input, shift, b8, b);
        bottom.MultiplyAdd(input, shift, b8, b);
    }

    public void MultiplyAdd(ArrayView<float> input, int shift, in Float8 left, in Float8 right)
    {
        top.MultiplyAdd(input, shift, left, right);
        bottom.MultiplyAdd(input, shift, left, right);
    }

    public readonly void Store(ArrayView<Float8> c8, ArrayView<float> bias, GemmArgs epilogue, int offset, int rowStride8, int col8, int valid)
    {
        top.Store(c8, bias, epilogue, offset, rowStride8, col8, valid);
        if (valid > top.Rows) bottom.Store(c8, bias, epilogue, offset + top.Rows * rowStride8, rowStride8, col8, valid - top.Rows);
    }

    public readonly void AddTo(ArrayView<Float8> c8, int offset, int rowStride8)
    {
        top.AddTo(c8, offset, rowStride8);
        bottom.AddTo(c8, offset + top.Rows * rowStride8, rowStride8);
    }
}

/// <summary>
/// Two tiles side by side, the same rows: <typeparamref name="T"/>'s rows × twice its columns
/// (32 filters). Against a stacked tile of as many accumulators it reads half the inputs and keeps
/// half the row bases, which a CPU otherwise spills from its 16 general-purpose registers.
/// </summary>
public struct WideTile<T> : IRegisterTile where T : struct, IRegisterTile
{
#pragma warning disable CS0649 // set through their own methods, which the compiler does not count
    T left;
    T right;
#pragma warning restore CS0649

    public readonly int Rows => left.Rows;

    public readonly int Columns8 => left.Columns8 + right.Columns8;

    // The right half takes the left's bases by copy (its accumulators are cleared next).
    public void BasesFromPixels(ConvGeometry g, int row0, int rows, ref int n, ref int oy, ref int ox)
    {
        left.BasesFromPixels(g, row0, rows, ref n, ref oy, ref ox);
        right = left;
    }

    public void BasesFromTaps(ConvGeometry g, int i0, int width)
    {
        left.BasesFromTaps(g, i0, width);
        right = left;
    }

    public void BasesFromStride(int first, int stride)
    {
        left.BasesFromStride(first, stride);
        right = left;
    }

    /// <summary>Both halves take the bases a tile of their kind has set (Conv2dForwardMaxPool: RegisterTile4.BasesFromWindow); the accumulators are cleared next.</summary>
    public void BasesOf(in T bases)
    {
        left = bases;
        right = bases;
    }

    /// <summary>The first Columns8 of the columns.</summary>
    public readonly T Left => left;

    /// <summary>The columns after the left half's.</summary>
    public readonly T Right => right;

    public void Clear()
    {
        left.Clear();
        right.Clear();
    }

    public void MultiplyAdd(ArrayView<float> input, int shift, ArrayView<Float8> b8, int b)
    {
        left.MultiplyAdd(input, shift, b8, b);
        right.MultiplyAdd(input, shift, b8, b + left.Columns8);
    }

    public readonly void Store(ArrayView<Float8> c8, ArrayView<float> bias, GemmArgs epilogue, int offset, int rowStride8, int col8, int valid)
    {
        left.Store(c8, bias, epilogue, offset, rowStride8, col8, valid);
        right.Store(c8, bias, epilogue, offset + left.Columns8, rowStride8, col8 + left.Columns8, valid);
    }

    public readonly void AddTo(ArrayView<Float8> c8, int offset, int rowStride8)
    {
        left.AddTo(c8, offset, rowStride8);
        right.AddTo(c8, offset + left.Columns8, rowStride8);
    }
}
