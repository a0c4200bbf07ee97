namespace GpuCnn.Data;

/// <summary>
/// Images of one size as uint8 values (row-major, channels last: HWC, image after image) with
/// their labels. One channel for grey images, three for RGB.
/// </summary>
public sealed record ImageSet(byte[] Pixels, byte[] Labels, int Height, int Width, int Channels = 1)
{
    public int Count => Labels.Length;
    public int PixelsPerImage => Height * Width * Channels;

    /// <summary>The per-image shape a model takes: height, width, channels.</summary>
    public int[] Shape => [Height, Width, Channels];

    /// <summary>The first <paramref name="count"/> images.</summary>
    public ImageSet Take(int count) => count >= Count ? this
        : new ImageSet(Pixels[..(count * PixelsPerImage)], Labels[..count], Height, Width, Channels);

    /// <summary>Pairs an images file with a labels file, checking that they fit together.</summary>
    public static ImageSet FromIdx(string imagesPath, IdxArray images, string labelsPath, IdxArray labels, int classes)
    {
        if (images.Dimensions.Length != 3)
            throw new DataFileException(imagesPath, $"expected images (count x height x width), found {images.Dimensions.Length} dimensions");
        if (labels.Dimensions.Length != 1)
            throw new DataFileException(labelsPath, $"expected labels (one dimension), found {labels.Dimensions.Length} dimensions");
        if (images.Dimensions[1] < 1 || images.Dimensions[2] < 1)
            throw new DataFileException(imagesPath, $"images are {images.Dimensions[1]}x{images.Dimensions[2]}");
        if (images.Dimensions[0] != labels.Dimensions[0])
            throw new DataFileException(labelsPath,
                $"holds {labels.Dimensions[0]} labels but {Path.GetFileName(imagesPath)} holds {images.Dimensions[0]} images");
        if (images.Dimensions[0] == 0) throw new DataFileException(imagesPath, "holds no images");
        int bad = Array.FindIndex(labels.Values, l => l >= classes);
        if (bad >= 0) throw new DataFileException(labelsPath, $"label {labels.Values[bad]} at index {bad} is not a class 0-{classes - 1}");
        return new ImageSet(images.Values, labels.Values, images.Dimensions[1], images.Dimensions[2]);
    }
}
