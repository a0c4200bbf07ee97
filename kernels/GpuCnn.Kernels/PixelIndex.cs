using ILGPU.Algorithms;

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

/// <summary>
/// Output pixels [first, end) in NHWC order, a run within one image row at a time: the run's first
/// pixel, its (image, y, x) and its length. The weight gradients walk their chunks so, and step
/// offsets inside a run.
/// </summary>
public struct RowRuns
{
    readonly int end, height, width;

    public int Pixel, Image, Y, X;

    public RowRuns(int first, int end, int height, int width)
    {
        this.end = end;
        this.height = height;
        this.width = width;
        Pixel = first;
        var at = new PixelIndex(first, height, width);
        Image = at.Image;
        Y = at.Y;
        X = at.X;
    }

    public readonly bool More => Pixel < end;

    /// <summary>Pixels in this run: to the row's end or the range's, whichever comes first.</summary>
    public readonly int Length => XMath.Min(width - X, end - Pixel);

    /// <summary>Steps to the next run: the start of the next row, or the range's end.</summary>
    public void Next()
    {
        int run = Length;
        Pixel += run;
        X += run;
        if (X < width) return;
        X = 0;
        if (++Y < height) return;
        Y = 0;
        Image++;
    }
}
