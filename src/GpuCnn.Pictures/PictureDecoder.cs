using GpuCnn.Data;
using SkiaSharp;

namespace GpuCnn.Pictures;

/// <summary>
/// Decodes a picture file whole, or refuses it with a DataFileException naming the file: not
/// found, not an image, too large, or truncated or corrupt. SKBitmap.Decode accepts a picture
/// whose data ends early and fills in the rest, so a file cut short would train silently; this
/// decodes the same way (the same pixels) but asks the codec whether it got all of them.
/// </summary>
public static class PictureDecoder
{
    /// <summary>Pictures past this many pixels are refused before their pixels are allocated (a small file can claim a huge size).</summary>
    public const long MaxPixels = 1L << 27;

    public static SKBitmap Decode(string path)
    {
        if (!File.Exists(path))
            throw new DataFileException(path, Directory.Exists(path) ? "is a folder, not a picture file" : "file not found");
        using var codec = SKCodec.Create(path) ?? throw new DataFileException(path, "not a PNG or JPEG image that can be decoded");
        // As SKBitmap.Decode does (premultiplied alpha, the codec's colour space), so the pixels are the ones it gave.
        var info = codec.Info;
        if (info.AlphaType == SKAlphaType.Unpremul) info.AlphaType = SKAlphaType.Premul;
        if (info.Width < 1 || info.Height < 1 || (long)info.Width * info.Height > MaxPixels)
            throw new DataFileException(path, $"claims {info.Width}x{info.Height} pixels; pictures of 1 to {MaxPixels} pixels can be read");
        var bitmap = new SKBitmap(info);
        var result = bitmap.GetPixels() == IntPtr.Zero ? SKCodecResult.InternalError : codec.GetPixels(info, bitmap.GetPixels());
        if (result == SKCodecResult.Success) return bitmap;
        bitmap.Dispose();
        throw new DataFileException(path, result switch
        {
            SKCodecResult.IncompleteInput => "truncated or corrupt: its image data ends before the picture is complete",
            SKCodecResult.ErrorInInput => "corrupt: its image data cannot be decoded",
            _ => "not a PNG or JPEG image that can be decoded",
        });
    }
}
