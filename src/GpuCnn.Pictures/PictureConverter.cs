using GpuCnn.Data;
using SkiaSharp;

namespace GpuCnn.Pictures;

/// <summary>
/// Turns a PNG or JPEG of any size and colour into a 28×28 Fashion-MNIST-like image: grey,
/// fitted into the frame with its aspect kept, and light-on-dark. Pictures with a light
/// background (product photos) are inverted, judged by the mean of their border pixels, unless
/// told to invert always or never.
/// </summary>
public static class PictureConverter
{
    const int Side = 28;

    /// <summary>The 784 grey pixels, or a DataFileException naming the file when it is missing, cannot be decoded, or is truncated (<see cref="PictureDecoder"/>).</summary>
    public static byte[] Load(string path, PictureInversion inversion = PictureInversion.Auto)
    {
        using var bitmap = PictureDecoder.Decode(path);
        return FromBitmap(bitmap, inversion);
    }

    public static byte[] FromBitmap(SKBitmap source, PictureInversion inversion = PictureInversion.Auto)
    {
        var grey = Grey(source);
        bool invert = inversion switch
        {
            PictureInversion.Always => true,
            PictureInversion.Never => false,
            _ => BorderMean(grey, source.Width, source.Height) > 127,
        };
        if (invert)
            for (int i = 0; i < grey.Length; i++) grey[i] = (byte)(255 - grey[i]);
        // Fit the longer side to 28 pixels (Mitchell cubic filter) on a black canvas, centred: the aspect is kept.
        double scale = (double)Side / Math.Max(source.Width, source.Height);
        int width = Math.Max(1, (int)Math.Round(source.Width * scale)), height = Math.Max(1, (int)Math.Round(source.Height * scale));
        using var greyBitmap = new SKBitmap(new SKImageInfo(source.Width, source.Height, SKColorType.Gray8, SKAlphaType.Opaque));
        System.Runtime.InteropServices.Marshal.Copy(grey, 0, greyBitmap.GetPixels(), grey.Length);
        using var resized = greyBitmap.Resize(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque),
            new SKSamplingOptions(SKCubicResampler.Mitchell)) ?? throw new InvalidOperationException("resize failed");
        var result = new byte[Side * Side];
        int top = (Side - height) / 2, left = (Side - width) / 2;
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                result[(top + y) * Side + left + x] = resized.GetPixel(x, y).Red;
        return result;
    }

    static byte[] Grey(SKBitmap bitmap)
    {
        var grey = new byte[bitmap.Width * bitmap.Height];
        for (int y = 0; y < bitmap.Height; y++)
            for (int x = 0; x < bitmap.Width; x++)
            {
                var c = bitmap.GetPixel(x, y);
                // Transparent pixels count as white paper.
                double alpha = c.Alpha / 255.0;
                double luminance = 0.299 * c.Red + 0.587 * c.Green + 0.114 * c.Blue;
                grey[y * bitmap.Width + x] = (byte)Math.Clamp(Math.Round(luminance * alpha + 255 * (1 - alpha)), 0, 255);
            }
        return grey;
    }

    static double BorderMean(byte[] grey, int width, int height)
    {
        double sum = 0;
        int count = 0;
        for (int x = 0; x < width; x++)
        {
            sum += grey[x] + grey[(height - 1) * width + x];
            count += 2;
        }
        for (int y = 0; y < height; y++)
        {
            sum += grey[y * width] + grey[y * width + width - 1];
            count += 2;
        }
        return sum / count;
    }
}
