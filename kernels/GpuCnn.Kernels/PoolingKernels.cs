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
    /// Keras) so the backward pass needs no second look at x. Items are output pixels; channels
    /// go eight at a time when their count allows (see Float8).
    /// </summary>
    public static void MaxPool2DForward(Index1D thread, ArrayView<float> input, ArrayView<float> output,
        ArrayView<int> argmax, PoolGeometry g, WorkSplit split)
    {
        int end = split.End(thread);
        bool vector = g.Vectorized;
        int groups = g.ChannelGroups;
        var input8 = input.Cast<Float8>();
        var output8 = output.Cast<Float8>();
        var argmax8 = argmax.Cast<Int8>();
        for (int pixel = split.Start(thread); pixel < end; pixel++)
        {
            var at = new PixelIndex(pixel, g.OutHeight, g.OutWidth);
            int corner = (at.Image * g.InHeight + at.Y * g.Size) * g.InWidth + at.X * g.Size;
            for (int c = 0; c < groups; c++)
            {
                int dst = pixel * groups + c;
                if (vector)
                {
                    Float8 best = input8[corner * groups + c];
                    Int8 taps = default;
                    for (int tap = 1; tap < g.Size * g.Size; tap++)
                        Lanes.MaxWithTap(ref best, ref taps, input8[(corner + tap / g.Size * g.InWidth + tap % g.Size) * groups + c], tap);
                    output8[dst] = best;
                    argmax8[dst] = taps;
                }
                else
                {
                    float best = input[corner * groups + c];
                    int bestTap = 0;
                    for (int tap = 1; tap < g.Size * g.Size; tap++)
                    {
                        float v = input[(corner + tap / g.Size * g.InWidth + tap % g.Size) * groups + c];
                        if (v > best) { best = v; bestTap = tap; }
                    }
                    output[dst] = best;
                    argmax[dst] = bestTap;
                }
            }
        }
    }

    /// <summary>
    /// dX gets dY where its element won the window and 0 elsewhere (also in the dropped border);
    /// with g.ReluBefore, only where the window's maximum y is positive too (the ReLU's mask,
    /// <see cref="Lanes.WherePositive"/>, at the winner). A gather over input pixels: every dX
    /// element is written exactly once, no zeroing pass.
    /// </summary>
    public static void MaxPool2DBackward(Index1D thread, ArrayView<float> outputGrad, ArrayView<int> argmax,
        ArrayView<float> output, ArrayView<float> inputGrad, PoolGeometry g, WorkSplit split)
    {
        int end = split.End(thread);
        bool vector = g.Vectorized;
        int groups = g.ChannelGroups;
        var outputGrad8 = outputGrad.Cast<Float8>();
        var output8 = output.Cast<Float8>();
        var argmax8 = argmax.Cast<Int8>();
        var inputGrad8 = inputGrad.Cast<Float8>();
        Float8 zero = default;
        for (int pixel = split.Start(thread); pixel < end; pixel++)
        {
            var at = new PixelIndex(pixel, g.InHeight, g.InWidth);
            int oy = at.Y / g.Size, ox = at.X / g.Size;
            bool covered = oy < g.OutHeight && ox < g.OutWidth;
            int tap = (at.Y - oy * g.Size) * g.Size + (at.X - ox * g.Size);
            int src = ((at.Image * g.OutHeight + oy) * g.OutWidth + ox) * groups;
            for (int c = 0; c < groups; c++)
            {
                int dst = pixel * groups + c;
                if (vector)
                    inputGrad8[dst] = covered ? Lanes.WherePositive(output8[src + c], Lanes.WhereTap(argmax8[src + c], tap, outputGrad8[src + c]), g.ReluBefore) : zero;
                else
                    inputGrad[dst] = covered && argmax[src + c] == tap ? outputGrad[src + c] * Lanes.Step(output[src + c], g.ReluBefore) : 0f;
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
