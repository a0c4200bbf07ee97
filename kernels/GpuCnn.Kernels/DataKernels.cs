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
    /// <summary>1: mirror every image (test-time augmentation's second view).</summary>
    public int MirrorAll;
    /// <summary>Random erasing: the chance, in 1/65536ths, that an image gets a rectangle zeroed (0: never).</summary>
    public int EraseChance;
    public uint Seed;
}

public static class DataKernels
{
    /// <summary>
    /// Builds a mini-batch on the device: image order[OrderOffset + b] of the uint8 data set, scaled
    /// to [0,1], optionally shifted by (dy, dx) with zero fill, then mirrored, as drawn from
    /// bits = CounterRng.Hash(seed, OrderOffset + b): dy = bits mod (2s+1) - s, dx = bits / (2s+1)
    /// mod (2s+1) - s for a maximum shift s, a flip when the top bit is set; and its label.
    /// A shift of up to s with zero fill is a random crop of the picture padded by s. Then random
    /// erasing (Zhong et al.), see <see cref="Erase"/>. Items are images of the batch.
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
            if (args.MaxShift == 0 && args.Flip == 0 && args.MirrorAll == 0)
            {
                for (int p = 0; p < pixels; p++) batch[dst + p] = images[src + p] * Scale;
                if (args.EraseChance > 0) Erase(batch, dst, args, (uint)(args.OrderOffset + b));
                continue;
            }
            uint bits = CounterRng.Hash(args.Seed, (uint)(args.OrderOffset + b));
            int span = 2 * args.MaxShift + 1;
            // Through a zero-extended long: on OpenCL the uint arithmetic on values of 2³¹ and more
            // gave other shifts and flips than on the CPU (found by the exact augmentation test).
            long word = bits;
            int dy = (int)(word % span) - args.MaxShift;
            int dx = (int)(word / span % span) - args.MaxShift;
            bool flip = args.MirrorAll != 0 || ((int)(word >> 31) & args.Flip) != 0;
            for (int y = 0; y < args.Height; y++)
                for (int x = 0; x < args.Width; x++)
                {
                    int sy = y - dy;
                    int sx = (flip ? args.Width - 1 - x : x) - dx;
                    bool inside = sy >= 0 && sy < args.Height && sx >= 0 && sx < args.Width;
                    int to = dst + (y * args.Width + x) * channels, from = src + (sy * args.Width + sx) * channels;
                    for (int c = 0; c < channels; c++) batch[to + c] = inside ? images[from + c] * Scale : 0f;
                }
            if (args.EraseChance > 0) Erase(batch, dst, args, (uint)(args.OrderOffset + b));
        }
    }

    /// <summary>
    /// Random erasing of the image at batch[dst], the one at <paramref name="position"/> in the
    /// order, in integers so every device draws the same: with w(k) = CounterRng.Hash(seed ^
    /// 0x5BD1E995, 64·position + k), the image is erased when w(0) mod 65536 is below EraseChance;
    /// then up to 10 tries t draw an area a = A0 + w(4t+1) mod (A1 - A0 + 1) pixels (A0, A1: 2 % and
    /// 33 % of H·W, rounded down) and a height h = 1 + w(4t+2) mod H, width a / h; the first try
    /// whose rectangle fits (1 ≤ width ≤ W, h &lt; H or width &lt; W) with an aspect h / width from
    /// 0.3 to 3.3 is zeroed, at top w(4t+3) mod (H - h + 1) and left w(4t+4) mod (W - width + 1).
    /// </summary>
    public static void Erase(ArrayView<float> batch, int dst, GatherArgs args, uint position)
    {
        uint seed = args.Seed ^ 0x5BD1E995u;
        uint counter = position * 64u;
        long chance = CounterRng.Hash(seed, counter);
        if (chance % 65536 >= args.EraseChance) return;
        int area = args.Height * args.Width, fewest = area * 2 / 100, most = area * 33 / 100;
        for (uint attempt = 0; attempt < 10; attempt++)
        {
            long areaBits = CounterRng.Hash(seed, counter + 4 * attempt + 1), heightBits = CounterRng.Hash(seed, counter + 4 * attempt + 2);
            int erased = fewest + (int)(areaBits % (most - fewest + 1));
            int height = 1 + (int)(heightBits % args.Height);
            int width = erased / height;
            if (width < 1 || width > args.Width || (height == args.Height && width == args.Width)) continue;
            if (10 * height < 3 * width || 10 * height > 33 * width) continue;
            long topBits = CounterRng.Hash(seed, counter + 4 * attempt + 3), leftBits = CounterRng.Hash(seed, counter + 4 * attempt + 4);
            int top = (int)(topBits % (args.Height - height + 1)), left = (int)(leftBits % (args.Width - width + 1));
            for (int y = top; y < top + height; y++)
                for (int x = left; x < left + width; x++)
                    for (int c = 0; c < args.Channels; c++) batch[dst + (y * args.Width + x) * args.Channels + c] = 0f;
            return;
        }
    }
}
