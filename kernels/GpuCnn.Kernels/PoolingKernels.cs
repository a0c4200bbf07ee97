using ILGPU;

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
        Float8 zero = default;
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
                    inputGrad8[dst] = covered ? Lanes.WherePositive(output8[src + c], Lanes.WhereTap(argmax8[src + c], tap, outputGrad8[src + c]), g.ReluBefore) : zero;
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
