using GpuCnn.Data;
using SkiaSharp;

namespace GpuCnn.Pictures;

/// <summary>
/// Decodes a PNG or JPEG and resizes it to height×width (bilinear, aspect not kept), as Keras's
/// image_dataset_from_directory does; one channel (luminance) or three (RGB), HWC uint8.
/// Transparent pixels are composed over white.
/// </summary>
public static class PictureReader
{
    /// <summary>The pixels, or a DataFileException naming the file when it is missing, cannot be decoded, or is truncated (<see cref="PictureDecoder"/>).</summary>
    public static byte[] Read(string path, int height, int width, int channels)
    {
        if (channels is not (1 or 3)) throw new ArgumentException($"channels must be 1 or 3, got {channels}");
        using var decoded = PictureDecoder.Decode(path);
        using var resized = decoded.Resize(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul),
            new SKSamplingOptions(SKFilterMode.Linear)) ?? throw new DataFileException(path, "could not be resized");
        var pixels = new byte[height * width * channels];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                var c = resized.GetPixel(x, y);
                double alpha = c.Alpha / 255.0, white = 255 * (1 - alpha);
                double r = c.Red * alpha + white, g = c.Green * alpha + white, b = c.Blue * alpha + white;
                int at = (y * width + x) * channels;
                if (channels == 1) pixels[at] = Byte(0.299 * r + 0.587 * g + 0.114 * b);
                else
                {
                    pixels[at] = Byte(r);
                    pixels[at + 1] = Byte(g);
                    pixels[at + 2] = Byte(b);
                }
            }
        return pixels;
    }

    static byte Byte(double v) => (byte)Math.Clamp(Math.Round(v), 0, 255);
}
