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
}
