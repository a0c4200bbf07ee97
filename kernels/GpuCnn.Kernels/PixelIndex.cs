namespace GpuCnn.Kernels;

/// <summary>The (image, row, column) of a flat NHWC pixel index.</summary>
public readonly struct PixelIndex
{
    public readonly int Image, Y, X;

    public PixelIndex(int pixel, int height, int width)
    {
        X = pixel % width;
        Y = pixel / width % height;
        Image = pixel / (width * height);
    }

    /// <summary>Steps (image, y, x) to the next pixel in NHWC order: column, then row, then image; no division.</summary>
    public static void Next(ref int image, ref int y, ref int x, int height, int width)
    {
        if (++x < width) return;
        x = 0;
        if (++y < height) return;
        y = 0;
        image++;
    }
}
