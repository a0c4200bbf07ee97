using GpuCnn.Data;
using GpuCnn.Layers;
using GpuCnn.Models;
using GpuCnn.Pictures;
using GpuCnn.Tests.Cli;
using GpuCnn.Training;
using SkiaSharp;

namespace GpuCnn.Tests.Pictures;

/// <summary>
/// `predict --invert`: auto inverts a picture with a light border and leaves a dark one; always
/// and never decide for every picture. Fitting keeps the aspect ratio: a 60×40 picture becomes
/// 28×19 pixels centred on black, 4 rows above and 5 below.
/// </summary>
[Collection("devices")]
public sealed class PictureInversionTests(TestDevices devices)
{
    /// <summary>A 60×40 PNG: a 30×30 square of one grey on a background of another.</summary>
    static string Picture(byte background, byte square)
    {
        string path = Path.Combine(SyntheticData.TempFolder(), "picture.png");
        using var bitmap = new SKBitmap(60, 40);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(new SKColor(background, background, background));
            canvas.DrawRect(15, 5, 30, 30, new SKPaint { Color = new SKColor(square, square, square) });
        }
        using var file = File.Create(path);
        bitmap.Encode(SKEncodedImageFormat.Png, 100).SaveTo(file);
        return path;
    }

    static byte At(byte[] pixels, int row, int column) => pixels[row * 28 + column];

    [Fact]
    public void AutoInvertsALightPictureAndLeavesADarkOne()
    {
        string light = Picture(background: 250, square: 20), dark = Picture(background: 10, square: 230);
        Assert.Equal(PictureConverter.Load(light, PictureInversion.Always), PictureConverter.Load(light, PictureInversion.Auto));
        Assert.Equal(PictureConverter.Load(dark, PictureInversion.Never), PictureConverter.Load(dark, PictureInversion.Auto));
        Assert.NotEqual(PictureConverter.Load(light, PictureInversion.Always), PictureConverter.Load(light, PictureInversion.Never));
    }

    [Fact]
    public void FittingKeepsTheAspectRatioOnABlackCanvas()
    {
        string light = Picture(background: 250, square: 20);
        var kept = PictureConverter.Load(light, PictureInversion.Never);
        var inverted = PictureConverter.Load(light, PictureInversion.Always);
        foreach (var pixels in new[] { kept, inverted })
            for (int column = 0; column < 28; column++)
            {
                // 28×19 of picture: rows 4 to 22; black above and below.
                foreach (int row in new[] { 0, 3, 23, 27 }) Assert.Equal(0, At(pixels, row, column));
            }
        // Inside the picture, off the square: the background, light when kept, dark when inverted.
        Assert.InRange(At(kept, 13, 1), 240, 255);
        Assert.InRange(At(inverted, 13, 1), 0, 15);
        // The square's middle: dark when kept, light when inverted.
        Assert.InRange(At(kept, 13, 14), 0, 30);
        Assert.InRange(At(inverted, 13, 14), 225, 255);
    }

    [Fact]
    public void AModelOfYourOwnPicturesInvertsOnlyWhenToldAlways()
    {
        var network = new Sequential("own", [16, 16, 3], [new Flatten(), new Dense(2)]);
        using var model = GpuCnn.Model.Compile(network, devices.Cpu, new Hyperparameters { BatchSize = 4 }, classNames: ["dark", "light"]);
        string light = Picture(background: 250, square: 20);
        var asTrained = model.ReadPicture(light);
        Assert.Equal(16 * 16 * 3, asTrained.Length);
        Assert.Equal(asTrained, model.ReadPicture(light, PictureInversion.Never));
        Assert.Equal(asTrained.Select(p => (byte)(255 - p)), model.ReadPicture(light, PictureInversion.Always));
    }

    [Fact]
    public void AnUnknownInversionIsRefusedNamingTheChoices()
    {
        var r = CliRunner.Run("predict", "model.gpucnn", "picture.png", "--invert", "sideways");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("error: --invert must be one of auto, always, never; got 'sideways'.", r.Error.Trim());
    }
}
