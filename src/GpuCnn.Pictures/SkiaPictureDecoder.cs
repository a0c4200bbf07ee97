using GpuCnn.Data;

namespace GpuCnn.Pictures;

/// <summary>PNG and JPEG files through SkiaSharp, for the core library: PictureFiles.Decoder = new SkiaPictureDecoder().</summary>
public sealed class SkiaPictureDecoder : IPictureDecoder
{
    public byte[] Read(string path, int height, int width, int channels) => PictureReader.Read(path, height, width, channels);

    public byte[] Fit(string path, PictureInversion inversion) => PictureConverter.Load(path, inversion);
}
