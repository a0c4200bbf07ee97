using GpuCnn.Data;
using GpuCnn.Pictures;
using GpuCnn.Tests.Data;
using SkiaSharp;

namespace GpuCnn.Tests.Pictures;

/// <summary>Pictures cut short, missing or in empty class folders are refused by name; whole pictures decode as before.</summary>
public sealed class PictureFileTests
{
    /// <summary>A 40×32 picture of noise (so it does not compress to a few bytes), encoded whole.</summary>
    static byte[] Encoded(SKEncodedImageFormat format, bool transparent = false)
    {
        var random = new Random(7);
        using var bitmap = new SKBitmap(40, 32);
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 40; x++)
                bitmap.SetPixel(x, y, new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256),
                    transparent ? (byte)random.Next(256) : (byte)255));
        using var image = SKImage.FromBitmap(bitmap);
        return image.Encode(format, 90).ToArray();
    }

    static string Write(byte[] bytes, string name)
    {
        string path = Path.Combine(SyntheticData.TempFolder(), name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Theory]
    [InlineData(SKEncodedImageFormat.Png, "cut.png")]
    [InlineData(SKEncodedImageFormat.Jpeg, "cut.jpg")]
    public void APictureCutShortIsRefusedAsTruncated(SKEncodedImageFormat format, string name)
    {
        var whole = Encoded(format);
        string path = Write(whole[..(whole.Length * 4 / 10)], name);
        // The old decoder gave a picture for it, the missing part filled in.
        using (var filledIn = SKBitmap.Decode(path)) Assert.NotNull(filledIn);

        var e = Assert.Throws<DataFileException>(() => PictureReader.Read(path, 28, 28, 1));
        Assert.Equal(path, e.Path);
        Messages.Says(e.Message, $"{path}: truncated or corrupt");
        Assert.Equal(path, Assert.Throws<DataFileException>(() => PictureConverter.Load(path)).Path);
    }

    [Fact]
    public void AMissingPictureIsFileNotFound()
    {
        string path = Path.Combine(SyntheticData.TempFolder(), "absent.png");
        Assert.Equal($"{path}: file not found", Assert.Throws<DataFileException>(() => PictureReader.Read(path, 16, 16, 3)).Message);
        Assert.Equal($"{path}: file not found", Assert.Throws<DataFileException>(() => PictureConverter.Load(path)).Message);
    }

    [Theory]
    [InlineData(SKEncodedImageFormat.Png, true)]
    [InlineData(SKEncodedImageFormat.Png, false)]
    [InlineData(SKEncodedImageFormat.Jpeg, false)]
    public void AWholePictureDecodesToTheSamePixelsAsBefore(SKEncodedImageFormat format, bool transparent)
    {
        string path = Write(Encoded(format, transparent), format == SKEncodedImageFormat.Png ? "whole.png" : "whole.jpg");
        using var before = SKBitmap.Decode(path);
        using var now = PictureDecoder.Decode(path);
        Assert.Equal((before.Width, before.Height, before.ColorType, before.AlphaType), (now.Width, now.Height, now.ColorType, now.AlphaType));
        Assert.Equal(before.Bytes, now.Bytes);
        Assert.Equal(before.ColorSpace?.IsSrgb, now.ColorSpace?.IsSrgb);
    }

    [Fact]
    public void ATruncatedPictureInAFolderIsRefusedByNameOrSkippedAndListed()
    {
        string folder = ImageFolderTests.Write();
        string cut = Path.Combine(folder, "cat", "cut.png");
        var whole = Encoded(SKEncodedImageFormat.Png);
        File.WriteAllBytes(cut, whole[..(whole.Length * 4 / 10)]);

        var e = Assert.Throws<DataFileException>(() => ImageFolder.Read(folder, new ImageFolderOptions()));
        Assert.Equal(cut, e.Path);
        Messages.Says(e.Message, $"1 picture cannot be decoded: {cut};");
        Messages.Says(e.Message, "(the first: truncated or corrupt");

        var log = new List<string>();
        var data = ImageFolder.Read(folder, new ImageFolderOptions(SkipBadImages: true), log.Add);
        Assert.Equal(30, data.Train.Count + data.Test.Count);
        Messages.Says(Assert.Single(log), $"skipped 1 unreadable picture: {cut}");
    }

    [Fact]
    public void AnEmptyClassFolderIsAnErrorNamingIt()
    {
        string folder = ImageFolderTests.Write();
        string empty = Path.Combine(folder, "fish");
        Directory.CreateDirectory(empty);
        var e = Assert.Throws<DataFileException>(() => ImageFolder.Read(folder, new ImageFolderOptions()));
        Assert.Equal(empty, e.Path);
        Messages.Says(e.Message, $"{empty}: the class folder holds no PNG or JPEG pictures");

        // The same in a train/ and test/ layout; hidden folders are not classes.
        string split = ImageFolderTests.Write(perClass: 2, sub: "train");
        ImageFolderTests.Write(split, perClass: 2, sub: "test");
        Directory.CreateDirectory(Path.Combine(split, "train", ".thumbnails"));
        Assert.Equal(6, ImageFolder.Read(split, new ImageFolderOptions()).Train.Count);
        string emptyTest = Path.Combine(split, "test", "dog");
        foreach (var file in Directory.GetFiles(emptyTest)) File.Delete(file);
        Assert.Equal(emptyTest, Assert.Throws<DataFileException>(() => ImageFolder.Read(split, new ImageFolderOptions())).Path);
    }
}
