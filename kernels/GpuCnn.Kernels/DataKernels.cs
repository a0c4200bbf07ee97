using ILGPU;

namespace GpuCnn.Kernels;

/// <summary>How GatherBatch reads and optionally augments the images of one mini-batch.</summary>
public struct GatherArgs
{
    /// <summary>Image size; pixels are HWC, Channels values each (1: grey, 3: RGB).</summary>
    public int Height, Width, Channels;
    /// <summary>Position in the shuffled order of the batch's first image.</summary>
    public int OrderOffset;
    /// <summary>Random shift of up to this many pixels in each direction (0: none).</summary>
    public int MaxShift;
    /// <summary>1: flip each image horizontally with probability ½.</summary>
    public int Flip;
    public uint Seed;
}

public static class DataKernels
{
    /// <summary>
    /// Builds a mini-batch on the device: image order[OrderOffset + b] of the uint8 data set, scaled
    /// to [0,1], optionally shifted by (dy, dx) with zero fill, then mirrored, as drawn from
    /// bits = CounterRng.Hash(seed, OrderOffset + b): dy = bits mod (2s+1) - s, dx = bits / (2s+1)
    /// mod (2s+1) - s for a maximum shift s, a flip when the top bit is set; and its label.
    /// Items are images of the batch.
    /// </summary>
    public static void GatherBatch(Index1D thread, ArrayView<byte> images, ArrayView<byte> labels,
        ArrayView<int> order, ArrayView<float> batch, ArrayView<int> batchLabels, GatherArgs args, WorkSplit split)
    {
        int end = split.End(thread);
        int channels = args.Channels, pixels = args.Height * args.Width * channels;
        const float Scale = 1f / 255f;
        for (int b = split.Start(thread); b < end; b++)
        {
            int image = order[args.OrderOffset + b];
            batchLabels[b] = labels[image];
            int src = image * pixels, dst = b * pixels;
            if (args.MaxShift == 0 && args.Flip == 0)
            {
                for (int p = 0; p < pixels; p++) batch[dst + p] = images[src + p] * Scale;
                continue;
            }
            uint bits = CounterRng.Hash(args.Seed, (uint)(args.OrderOffset + b));
            int span = 2 * args.MaxShift + 1;
            // Through a zero-extended long: on OpenCL the uint arithmetic on values of 2³¹ and more
            // gave other shifts and flips than on the CPU (found by the exact augmentation test).
            long word = bits;
            int dy = (int)(word % span) - args.MaxShift;
            int dx = (int)(word / span % span) - args.MaxShift;
            bool flip = ((int)(word >> 31) & args.Flip) != 0;
            for (int y = 0; y < args.Height; y++)
                for (int x = 0; x < args.Width; x++)
                {
                    int sy = y - dy;
                    int sx = (flip ? args.Width - 1 - x : x) - dx;
                    bool inside = sy >= 0 && sy < args.Height && sx >= 0 && sx < args.Width;
                    int to = dst + (y * args.Width + x) * channels, from = src + (sy * args.Width + sx) * channels;
                    for (int c = 0; c < channels; c++) batch[to + c] = inside ? images[from + c] * Scale : 0f;
                }
        }
    }
}
