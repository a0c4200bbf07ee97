using ILGPU;
using ILGPU.Algorithms;

namespace GpuCnn.Kernels;

/// <summary>Geometry of a square pooling window (size = stride, no padding) over NHWC tensors.</summary>
public struct PoolGeometry
{
    public int Batch, InHeight, InWidth, Channels, Size, OutHeight, OutWidth;

    /// <summary>
    /// 1 when the input is a ReLU's output whose backward pass the pooling takes over: the backward
    /// pass masks each window's gradient where its maximum (the output) is not positive, as the
    /// ReLU's would have at the winning element. 0: plain max pooling.
    /// </summary>
    public int ReluBefore;

    public PoolGeometry(int batch, int inHeight, int inWidth, int channels, int size, bool reluBefore = false)
    {
        Batch = batch; InHeight = inHeight; InWidth = inWidth; Channels = channels; Size = size;
        ReluBefore = reluBefore ? 1 : 0;
        // Keras's "valid" pooling: a partial window at the border is dropped.
        OutHeight = inHeight / size;
        OutWidth = inWidth / size;
    }

    public readonly int OutputPixels => Batch * OutHeight * OutWidth;

    /// <summary>Channels go eight at a time (Float8) when their count is a multiple of 8.</summary>
    public readonly bool Vectorized => Channels % 8 == 0;

    /// <summary>Groups of eight channels, or single channels.</summary>
    public readonly int ChannelGroups => Vectorized ? Channels / 8 : Channels;
    public readonly int InputPixels => Batch * InHeight * InWidth;
}

public static class PoolingKernels
{
    /// <summary>
    /// y = max over each window; argmax keeps the winning tap (0..size²-1, the first on ties, as
    /// Keras) so the backward pass needs no second look at x. Items are output pixels, stepped
    /// in order from the first of a work-item's block (no division per pixel or tap); channels go
    /// eight at a time when their count allows (see Float8).
    /// </summary>
    public static void MaxPool2DForward(Index1D thread, ArrayView<float> input, ArrayView<float> output,
        ArrayView<int> argmax, PoolGeometry g, WorkSplit split)
    {
        int start = split.Start(thread), end = split.End(thread);
        bool vector = g.Vectorized;
        int groups = g.ChannelGroups, size = g.Size, rowStride = g.InWidth * groups;
        var input8 = input.Cast<Float8>();
        var output8 = output.Cast<Float8>();
        var argmax8 = argmax.Cast<Int8>();
        var at = new PixelIndex(start, g.OutHeight, g.OutWidth);
        int n = at.Image, oy = at.Y, ox = at.X;
        for (int pixel = start; pixel < end; pixel++)
        {
            int corner = ((n * g.InHeight + oy * size) * g.InWidth + ox * size) * groups;
            for (int c = 0; c < groups; c++)
            {
                int dst = pixel * groups + c, first = corner + c;
                // Tap 0 taken again changes nothing (never strictly greater than itself), so one loop covers every tap.
                if (vector)
                {
                    Float8 best = input8[first];
                    Int8 taps = default;
                    for (int ty = 0; ty < size; ty++)
                        for (int tx = 0; tx < size; tx++)
                            Lanes.MaxWithTap(ref best, ref taps, input8[first + ty * rowStride + tx * groups], ty * size + tx);
                    output8[dst] = best;
                    argmax8[dst] = taps;
                }
                else
                {
                    float best = input[first];
                    int bestTap = 0;
                    for (int ty = 0; ty < size; ty++)
                        for (int tx = 0; tx < size; tx++)
                        {
                            float v = input[first + ty * rowStride + tx * groups];
                            if (v > best) { best = v; bestTap = ty * size + tx; }
                        }
                    output[dst] = best;
                    argmax[dst] = bestTap;
                }
            }
            PixelIndex.Next(ref n, ref oy, ref ox, g.OutHeight, g.OutWidth);
        }
    }

    /// <summary>
    /// dX gets dY where its element won the window and 0 elsewhere (also in the dropped border);
    /// with g.ReluBefore, only where the window's maximum y is positive too (the ReLU's mask,
    /// <see cref="Lanes.WherePositive"/>, at the winner). A gather over input pixels: every dX
    /// element is written exactly once, no zeroing pass. Pixels are stepped in order from the
    /// first of a work-item's block, with their window (oy, ox) and tap (ry, rx) beside them.
    /// </summary>
    public static void MaxPool2DBackward(Index1D thread, ArrayView<float> outputGrad, ArrayView<int> argmax,
        ArrayView<float> output, ArrayView<float> inputGrad, PoolGeometry g, WorkSplit split)
    {
        int start = split.Start(thread), end = split.End(thread);
        bool vector = g.Vectorized;
        int groups = g.ChannelGroups, size = g.Size;
        var outputGrad8 = outputGrad.Cast<Float8>();
        var output8 = output.Cast<Float8>();
        var argmax8 = argmax.Cast<Int8>();
        var inputGrad8 = inputGrad.Cast<Float8>();
        var at = new PixelIndex(start, g.InHeight, g.InWidth);
        int n = at.Image, y = at.Y, x = at.X;
        int oy = y / size, ry = y - oy * size, ox = x / size, rx = x - ox * size;
        for (int pixel = start; pixel < end; pixel++)
        {
            bool covered = oy < g.OutHeight && ox < g.OutWidth;
            int tap = ry * size + rx;
            int src = ((n * g.OutHeight + oy) * g.OutWidth + ox) * groups;
            for (int c = 0; c < groups; c++)
            {
                int dst = pixel * groups + c;
                if (vector)
                    inputGrad8[dst] = covered ? WindowGradient(outputGrad8, argmax8, output8, src + c, tap, g.ReluBefore) : default;
                else
                    inputGrad[dst] = covered && argmax[src + c] == tap ? outputGrad[src + c] * Lanes.Step(output[src + c], g.ReluBefore) : 0f;
            }
            if (++rx == size) { rx = 0; ox++; }
            if (++x == g.InWidth)
            {
                x = 0; ox = 0; rx = 0;
                if (++ry == size) { ry = 0; oy++; }
                if (++y == g.InHeight) { y = 0; oy = 0; ry = 0; n++; }
            }
        }
    }

    /// <summary>
    /// MaxPool2DBackward's dX for eight channels of an input pixel that a window covers: the
    /// window's dY (at src, in Float8s) in the lanes whose winning tap is the pixel's, and, with
    /// relu, whose window maximum is positive; 0 in the others.
    /// </summary>
    public static Float8 WindowGradient(ArrayView<Float8> outputGrad8, ArrayView<Int8> argmax8, ArrayView<Float8> output8, int src, int tap, int relu) =>
        Lanes.WherePositive(output8[src], Lanes.WhereTap(argmax8[src], tap, outputGrad8[src]), relu);

    /// <summary>
    /// ColumnSum over MaxPool2DBackward's dX (N·H·W rows of C, C a multiple of 16) without dX: the
    /// bias gradient of the convolution under a 2×2 pooling (Conv2dWeightGradMaxPool's pair). An
    /// item is a chunk of rows and four groups of eight channels (two where C is not a multiple of
    /// 32: the other two chains repeat them and are not stored), four chains of adds side by side
    /// as ChunkQuad's, each over its chunk's rows in order from zero: ColumnSum's sums over dX, bit
    /// for bit. A window's two pixels in one input row hold at most one nonzero term a lane (its
    /// winner), so where both lie in the chunk they are added as one (Lanes.WhereTapPair): each
    /// lane adds the same nonzero terms in the same order, and a zero leaves a sum as it is
    /// (a sum of terms from +0 is never -0). (A compiler that fuses a term's ReLU mask into the add
    /// could round differently only where a ReLU output is a positive subnormal: there the mask is
    /// not 0 or 1.)
    /// </summary>
    public static void MaxPool2DBackwardColumnSum(Index1D thread, ArrayView<float> outputGrad, ArrayView<int> argmax,
        ArrayView<float> output, ArrayView<float> sums, PoolGeometry g, int rowChunk, WorkSplit split)
    {
        int end = split.End(thread), groups = g.ChannelGroups, span = groups % 4 == 0 ? 4 : 2, spans = groups / span;
        var outputGrad8 = outputGrad.Cast<Float8>();
        var output8 = output.Cast<Float8>();
        var argmax8 = argmax.Cast<Int8>();
        var sums8 = sums.Cast<Float8>();
        for (int item = split.Start(thread); item < end; item++)
        {
            int chunk = item / spans, group = item % spans * span, first = chunk * rowChunk;
            var sum = WindowSums.Over(span);
            for (var runs = new RowRuns(first, XMath.Min(g.InputPixels, first + rowChunk), g.InHeight, g.InWidth); runs.More; runs.Next())
            {
                var window = new WindowRow(g, runs.Image, runs.Y);
                int x = runs.X, coveredEnd = window.CoveredEnd(x, x + runs.Length);
                // Pixels no window covers add zeros: nothing.
                if (x < coveredEnd && (x & 1) == 1)
                {
                    sum.AddTap(outputGrad8, argmax8, output8, window.Source(x, groups) + group, window.Tap(x), g.ReluBefore);
                    x++;
                }
                for (; x + 1 < coveredEnd; x += 2)
                    sum.AddPair(outputGrad8, argmax8, output8, window.Source(x, groups) + group, window.Tap(x), g.ReluBefore);
                if (x < coveredEnd) sum.AddTap(outputGrad8, argmax8, output8, window.Source(x, groups) + group, window.Tap(x), g.ReluBefore);
            }
            int at = chunk * groups + group;
            sums8[at] = sum.Sum0;
            sums8[at + 1] = sum.Sum1;
            if (span == 4)
            {
                sums8[at + 2] = sum.Sum2;
                sums8[at + 3] = sum.Sum3;
            }
        }
    }

    /// <summary>y[n,c] = mean over the H×W pixels of x[n,·,·,c]. Items are images.</summary>
    public static void GlobalAvgPoolForward(Index1D thread, ArrayView<float> input, ArrayView<float> output,
        int pixels, int channels, WorkSplit split)
    {
        int end = split.End(thread);
        float scale = 1f / pixels;
        for (int n = split.Start(thread); n < end; n++)
            for (int c = 0; c < channels; c++)
            {
                float sum = 0f;
                for (int p = 0; p < pixels; p++) sum += input[(n * pixels + p) * channels + c];
                output[n * channels + c] = sum * scale;
            }
    }

    /// <summary>dX[n,p,c] = dY[n,c] / pixels. Items are images.</summary>
    public static void GlobalAvgPoolBackward(Index1D thread, ArrayView<float> outputGrad, ArrayView<float> inputGrad,
        int pixels, int channels, WorkSplit split)
    {
        int end = split.End(thread);
        float scale = 1f / pixels;
        for (int n = split.Start(thread); n < end; n++)
            for (int p = 0; p < pixels; p++)
                for (int c = 0; c < channels; c++)
                    inputGrad[(n * pixels + p) * channels + c] = outputGrad[n * channels + c] * scale;
    }
}

/// <summary>
/// The 2×2 windows over one input row (image, y) of a max pooling: for an input column x, the
/// window's first Float8 in the pooling's output (Source), the pixel's tap in it (Tap) and
/// the covered part of a run of columns (CoveredEnd: a dropped last row or column has no window).
/// Shifts, no division, for the loops that make MaxPool2DBackward's dX pixel by pixel.
/// </summary>
public readonly struct WindowRow
{
    readonly int rowStart, rowTap, outWidth;
    readonly bool rowCovered;

    public WindowRow(PoolGeometry g, int image, int y)
    {
        rowStart = (image * g.OutHeight + (y >> 1)) * g.OutWidth;
        rowTap = (y & 1) * 2;
        rowCovered = y >> 1 < g.OutHeight;
        outWidth = g.OutWidth;
    }

    public int Source(int x, int groups) => (rowStart + (x >> 1)) * groups;

    public int Tap(int x) => rowTap + (x & 1);

    /// <summary>The end of the covered columns of [from, end): from where the row has no window.</summary>
    public int CoveredEnd(int from, int end) => rowCovered ? XMath.Max(from, XMath.Min(end, 2 * outWidth)) : from;
}

/// <summary>
/// MaxPool2DBackwardColumnSum's four chains: Float8 groups 0, 1, third and fourth from the first
/// group of the rows it adds (third and fourth repeat the second where an item takes two groups).
/// </summary>
public struct WindowSums
{
    readonly int third, fourth;
    public Float8 Sum0, Sum1, Sum2, Sum3;

    WindowSums(int third, int fourth)
    {
        this.third = third;
        this.fourth = fourth;
        Sum0 = default; Sum1 = default; Sum2 = default; Sum3 = default;
    }

    /// <summary>Four chains from zero over span (4, or 2) groups: the last two repeat the second where span is 2.</summary>
    public static WindowSums Over(int span) => new(XMath.Min(2, span - 1), span - 1);

    /// <summary>Adds one pixel's dX (PoolingKernels.WindowGradient), its window's first group at src.</summary>
    public void AddTap(ArrayView<Float8> outputGrad8, ArrayView<Int8> argmax8, ArrayView<Float8> output8, int src, int tap, int relu)
    {
        Sum0.Add(PoolingKernels.WindowGradient(outputGrad8, argmax8, output8, src, tap, relu));
        Sum1.Add(PoolingKernels.WindowGradient(outputGrad8, argmax8, output8, src + 1, tap, relu));
        Sum2.Add(PoolingKernels.WindowGradient(outputGrad8, argmax8, output8, src + third, tap, relu));
        Sum3.Add(PoolingKernels.WindowGradient(outputGrad8, argmax8, output8, src + fourth, tap, relu));
    }

    /// <summary>Adds the dX of a window's two pixels in one row, taps tap and tap + 1 (tap even), as one term a lane.</summary>
    public void AddPair(ArrayView<Float8> outputGrad8, ArrayView<Int8> argmax8, ArrayView<Float8> output8, int src, int tap, int relu)
    {
        Sum0.Add(PairGradient(outputGrad8, argmax8, output8, src, tap, relu));
        Sum1.Add(PairGradient(outputGrad8, argmax8, output8, src + 1, tap, relu));
        Sum2.Add(PairGradient(outputGrad8, argmax8, output8, src + third, tap, relu));
        Sum3.Add(PairGradient(outputGrad8, argmax8, output8, src + fourth, tap, relu));
    }

    static Float8 PairGradient(ArrayView<Float8> outputGrad8, ArrayView<Int8> argmax8, ArrayView<Float8> output8, int src, int tap, int relu) =>
        Lanes.WherePositive(output8[src], Lanes.WhereTapPair(argmax8[src], tap, outputGrad8[src]), relu);
}
