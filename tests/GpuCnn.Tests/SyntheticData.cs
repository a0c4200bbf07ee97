using GpuCnn.Data;

namespace GpuCnn.Tests;

/// <summary>Small made-up data sets in Fashion-MNIST's format, for tests that need files, not accuracy.</summary>
public static class SyntheticData
{
    /// <summary>Images whose label is recoverable from the picture (a bright band at row 2·label), so a model can learn it.</summary>
    public static ImageSet Images(int count, int seed)
    {
        var random = new Random(seed);
        var pixels = new byte[count * 784];
        var labels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            int label = random.Next(10);
            labels[i] = (byte)label;
            for (int p = 0; p < 784; p++) pixels[i * 784 + p] = (byte)random.Next(60);
            for (int x = 2; x < 26; x++)
            {
                pixels[i * 784 + (2 * label + 4) * 28 + x] = 250;
                pixels[i * 784 + (2 * label + 5) * 28 + x] = 200;
            }
        }
        return new ImageSet(pixels, labels, 28, 28);
    }

    /// <summary>Writes the four IDX files (gzip) into a new folder and returns it.</summary>
    public static string WriteFolder(int train, int test, string? folder = null)
    {
        folder ??= TempFolder();
        var trainSet = Images(train, 1);
        var testSet = Images(test, 2);
        var files = FashionMnist.OfficialFiles.Select(f => Path.Combine(folder, f.File)).ToArray();
        IdxFile.WriteGzip(files[0], [train, 28, 28], trainSet.Pixels);
        IdxFile.WriteGzip(files[1], [train], trainSet.Labels);
        IdxFile.WriteGzip(files[2], [test, 28, 28], testSet.Pixels);
        IdxFile.WriteGzip(files[3], [test], testSet.Labels);
        return folder;
    }

    public static string TempFolder()
    {
        string path = Path.Combine(Path.GetTempPath(), "gpucnn-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}

public static class Messages
{
    /// <summary>Asserts that a user-facing message says something, showing the whole message when it does not.</summary>
    public static void Says(string message, string expected) =>
        Assert.True(message.Contains(expected, StringComparison.Ordinal), $"expected \"{expected}\" in: {message}");
}
