namespace GpuCnn.Data;

/// <summary>
/// Turns picture files (PNG, JPEG) into pixels. The core library decodes none itself (that needs a
/// native codec); the GpuCnn.Pictures package's SkiaPictureDecoder is one.
/// </summary>
public interface IPictureDecoder
{
    /// <summary>
    /// The picture resized to height×width (aspect not kept), as Keras's image_dataset_from_directory
    /// reads it: 1 channel (luminance) or 3 (RGB), HWC uint8. DataFileException naming the file when
    /// it is missing, cannot be decoded or is truncated.
    /// </summary>
    byte[] Read(string path, int height, int width, int channels);

    /// <summary>
    /// The picture as a Fashion-MNIST image: 28×28 grey, light on dark (inverted as
    /// <paramref name="inversion"/> says), its longer side fitted to 28 pixels with the aspect kept,
    /// centred on black. DataFileException as for <see cref="Read"/>.
    /// </summary>
    byte[] Fit(string path, PictureInversion inversion);
}

/// <summary>Which files are pictures, and the decoder that reads them.</summary>
public static class PictureFiles
{
    public static readonly string[] Extensions = [".png", ".jpg", ".jpeg"];

    public static bool IsPicture(string path) => Extensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    /// <summary>The decoder folders of pictures and Model.ReadPicture use (null: none; the command line sets SkiaSharp's).</summary>
    public static IPictureDecoder? Decoder { get; set; }

    /// <summary><see cref="Decoder"/>, or an error that says how to get one.</summary>
    public static IPictureDecoder Require() => Decoder ?? throw new InvalidOperationException(
        "no picture decoder: add the GpuCnn.Pictures package and set PictureFiles.Decoder = new GpuCnn.Pictures.SkiaPictureDecoder() to read PNG and JPEG files.");
}
