using GpuCnn.Data;
using SkiaSharp;

namespace GpuCnn.Tests.Data;

/// <summary>Folders of your own pictures, laid out as ImageFolder and image_dataset_from_directory read them.</summary>
public sealed class ImageFolderTests
{
    static readonly (string Name, SKColor Colour)[] Classes = [("dog", new(200, 40, 40)), ("cat", new(40, 200, 40)), ("bird", new(40, 40, 200))];

    /// <summary>Writes PNG (and one JPEG per class) pictures of 20×16 in a class colour with noise; returns the folder.</summary>
    public static string Write(string? into = null, int perClass = 10, string? sub = null)
    {
        string root = into ?? SyntheticData.TempFolder();
        var random = new Random(4);
        foreach (var (name, colour) in Classes)
        {
            string folder = Path.Combine(sub is null ? root : Path.Combine(root, sub), name);
            Directory.CreateDirectory(folder);
            for (int i = 0; i < perClass; i++)
            {
                using var bitmap = new SKBitmap(20, 16);
                for (int y = 0; y < 16; y++)
                    for (int x = 0; x < 20; x++)
                        bitmap.SetPixel(x, y, new SKColor((byte)Math.Clamp(colour.Red + random.Next(-30, 30), 0, 255),
                            (byte)Math.Clamp(colour.Green + random.Next(-30, 30), 0, 255), (byte)Math.Clamp(colour.Blue + random.Next(-30, 30), 0, 255)));
                var format = i == 0 ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Png;
                using var image = SKImage.FromBitmap(bitmap);
                File.WriteAllBytes(Path.Combine(folder, $"{name}-{i}.{(i == 0 ? "jpg" : "png")}"), image.Encode(format, 95).ToArray());
            }
        }
        return root;
    }

    [Fact]
    public void ClassesAreTheSortedSubfoldersAndEachIsSplitBySeed()
    {
        string folder = Write();
        Assert.True(ImageFolder.IsImageFolder(folder));
        var data = ImageFolder.Read(folder, new ImageFolderOptions(12, 10, 3));
        Assert.Equal(["bird", "cat", "dog"], data.ClassNames);
        Assert.Equal(24, data.Train.Count);
        Assert.Equal(6, data.Test.Count);
        Assert.Equal([12, 10, 3], data.Train.Shape);
        Assert.Equal([0, 0, 1, 1, 2, 2], data.Test.Labels.Select(l => (int)l));
        // Every training picture of "dog" (label 2) is mostly red.
        for (int i = 0; i < data.Train.Count; i++)
        {
            var pixels = data.Train.Pixels.AsSpan(i * 360, 360);
            double red = 0, blue = 0;
            for (int p = 0; p < 120; p++) { red += pixels[3 * p]; blue += pixels[3 * p + 2]; }
            if (data.Train.Labels[i] == 2) Assert.True(red > 2 * blue);
            if (data.Train.Labels[i] == 0) Assert.True(blue > 2 * red);
        }
        // The same seed, the same split; grey pictures are the luminance.
        Assert.Equal(data.Test.Pixels, ImageFolder.Read(folder, new ImageFolderOptions(12, 10, 3)).Test.Pixels);
        Assert.Equal(120, ImageFolder.Read(folder, new ImageFolderOptions(12, 10, 1)).Train.PixelsPerImage);
    }

    [Fact]
    public void TrainAndTestSubfoldersAreUsedAsTheyAre()
    {
        string folder = Write(perClass: 4, sub: "train");
        Write(folder, perClass: 2, sub: "test");
        var data = ImageFolder.Read(folder, new ImageFolderOptions());
        Assert.Equal(12, data.Train.Count);
        Assert.Equal(6, data.Test.Count);
        Assert.Contains("train/ and test/", data.Source);
    }

    [Fact]
    public void UnreadablePicturesAreListedOrSkippedWhenAsked()
    {
        string folder = Write();
        string bad = Path.Combine(folder, "cat", "broken.png");
        File.WriteAllBytes(bad, [1, 2, 3, 4]);
        var e = Assert.Throws<DataFileException>(() => ImageFolder.Read(folder, new ImageFolderOptions()));
        Messages.Says(e.Message, $"1 picture cannot be decoded: {bad}; fix or remove them, or skip bad pictures");
        var log = new List<string>();
        var data = ImageFolder.Read(folder, new ImageFolderOptions(SkipBadImages: true), log.Add);
        Assert.Equal(30, data.Train.Count + data.Test.Count);
        Messages.Says(Assert.Single(log), $"skipped 1 unreadable picture: {bad}");
    }

    [Fact]
    public void TrainPredictAndEvaluateThroughTheCommandUseTheFoldersClassNames()
    {
        string folder = Write(perClass: 12);
        string run = Path.Combine(SyntheticData.TempFolder(), "run");
        var trained = Cli.CliRunner.Run("train", "--data-dir", folder, "--image-size", "16x16", "--channels", "3", "--epochs", "2",
            "--batch-size", "8", "--run-dir", run);
        Assert.True(trained.ExitCode == 0, trained.Error);
        Messages.Says(trained.Output, "Classes: bird, cat, dog; pictures 16x16x3.");
        Messages.Says(File.ReadAllText(Path.Combine(run, "classification_report.txt")), "bird");
        var predicted = Cli.CliRunner.Run("predict", run, Path.Combine(folder, "dog", "dog-3.png"));
        Assert.True(predicted.ExitCode == 0, predicted.Error);
        Assert.Matches(@"dog-3\.png: (bird|cat|dog) [0-9.]+ %, (bird|cat|dog)", predicted.Output);
        var evaluated = Cli.CliRunner.Run("evaluate", run);
        Assert.True(evaluated.ExitCode == 0, evaluated.Error);
        Messages.Says(evaluated.Output, "test accuracy");
        Messages.Says(evaluated.Output, "(6 images)");

        var grey = Cli.CliRunner.Run("train", "--data-dir", folder, "--image-size", "28x28", "--channels", "1", "--epochs", "1",
            "--batch-size", "8", "--run-dir", Path.Combine(SyntheticData.TempFolder(), "grey"));
        Assert.True(grey.ExitCode == 0, grey.Error);
        Messages.Says(grey.Output, "Classes: bird, cat, dog; pictures 28x28x1.");
        Messages.Says(grey.Output, "bird");

        var tooSmall = Cli.CliRunner.Run("train", "--data-dir", folder, "--image-size", "6x6", "--epochs", "1", "--batch-size", "8",
            "--run-dir", Path.Combine(SyntheticData.TempFolder(), "small"));
        Assert.Equal(2, tooSmall.ExitCode);
        Messages.Says(tooSmall.Error, "model 'seed' cannot take 6x6x1 pictures:");
    }
}
