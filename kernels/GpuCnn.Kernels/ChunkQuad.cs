using ILGPU;
using ILGPU.Algorithms;

namespace GpuCnn.Kernels;

/// <summary>
/// Four neighbouring items of a per-channel reduction in chunks of rows (item = chunk · groups +
/// group of 8 channels), summed side by side: each over its own rows in row order, as it would be
/// alone, but as four independent chains of adds. Alone, a chain waits out each add's latency
/// (3-4 cycles), and batch norm's sums ran at a third of the copy bandwidth. At_k is item k's first
/// row, as a Float8 index; Rows_k its rows; Common the rows all four have (the last chunk may be short).
/// </summary>
public readonly struct ChunkQuad
{
    public const int Items = 4;
    public readonly int At0, At1, At2, At3, Rows0, Rows1, Rows2, Rows3, Common;

    public ChunkQuad(int item, int groups, int rows, int rowChunk)
    {
        Span(item, groups, rows, rowChunk, out At0, out Rows0);
        Span(item + 1, groups, rows, rowChunk, out At1, out Rows1);
        Span(item + 2, groups, rows, rowChunk, out At2, out Rows2);
        Span(item + 3, groups, rows, rowChunk, out At3, out Rows3);
        Common = XMath.Min(XMath.Min(Rows0, Rows1), XMath.Min(Rows2, Rows3));
    }

    /// <summary>Each item's Σx over its rows, in row order: the four chains side by side, then each item's rows past Common.</summary>
    public void Sums(ArrayView<Float8> x8, int groups, out Float8 sum0, out Float8 sum1, out Float8 sum2, out Float8 sum3)
    {
        sum0 = default;
        sum1 = default;
        sum2 = default;
        sum3 = default;
        for (int o = 0; o < Common * groups; o += groups)
        {
            sum0.Add(x8[At0 + o]);
            sum1.Add(x8[At1 + o]);
            sum2.Add(x8[At2 + o]);
            sum3.Add(x8[At3 + o]);
        }
        Sum(x8, At0, Common, Rows0, groups, ref sum0);
        Sum(x8, At1, Common, Rows1, groups, ref sum1);
        Sum(x8, At2, Common, Rows2, groups, ref sum2);
        Sum(x8, At3, Common, Rows3, groups, ref sum3);
    }

    /// <summary>Each item's Σ(x - mean_k)² over its rows, in row order, swept as <see cref="Sums"/>.</summary>
    public void SquaredDeviations(ArrayView<Float8> x8, int groups, in Float8 mean0, in Float8 mean1, in Float8 mean2, in Float8 mean3,
        out Float8 square0, out Float8 square1, out Float8 square2, out Float8 square3)
    {
        square0 = default;
        square1 = default;
        square2 = default;
        square3 = default;
        for (int o = 0; o < Common * groups; o += groups)
        {
            AddSquare(x8[At0 + o], mean0, ref square0);
            AddSquare(x8[At1 + o], mean1, ref square1);
            AddSquare(x8[At2 + o], mean2, ref square2);
            AddSquare(x8[At3 + o], mean3, ref square3);
        }
        SquaredDeviation(x8, At0, Common, Rows0, groups, mean0, ref square0);
        SquaredDeviation(x8, At1, Common, Rows1, groups, mean1, ref square1);
        SquaredDeviation(x8, At2, Common, Rows2, groups, mean2, ref square2);
        SquaredDeviation(x8, At3, Common, Rows3, groups, mean3, ref square3);
    }

    /// <summary>sum += x over rows [from, to) of the item whose first row is at.</summary>
    public static void Sum(ArrayView<Float8> x8, int at, int from, int to, int groups, ref Float8 sum)
    {
        for (int r = from; r < to; r++) sum.Add(x8[at + r * groups]);
    }

    /// <summary>square += (x - mean)² over rows [from, to) of the item whose first row is at.</summary>
    public static void SquaredDeviation(ArrayView<Float8> x8, int at, int from, int to, int groups, in Float8 mean, ref Float8 square)
    {
        for (int r = from; r < to; r++) AddSquare(x8[at + r * groups], mean, ref square);
    }

    static void AddSquare(in Float8 x, in Float8 mean, ref Float8 square)
    {
        Float8 d = x - mean;
        square.Add(d * d);
    }

    /// <summary>An item's first row (a Float8 index: row · groups + its group) and its rows.</summary>
    public static void Span(int item, int groups, int rows, int rowChunk, out int at, out int count)
    {
        int first = item / groups * rowChunk;
        count = XMath.Min(rows, first + rowChunk) - first;
        at = first * groups + item % groups;
    }
}
