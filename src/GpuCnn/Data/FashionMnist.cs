namespace GpuCnn.Data;

/// <summary>The Fashion-MNIST data set: 60,000 training and 10,000 test images of 28×28, 10 classes.</summary>
public static class FashionMnist
{
    public const int Classes = 10;

    public static readonly string[] ClassNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>The four files, as the official mirror names them.</summary>
    public static readonly (string File, string Md5)[] OfficialFiles =
    [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ];

    /// <summary>Reads the four IDX files from a folder (each may be gzip-compressed or not).</summary>
    public static ImageDataset ReadFolder(string folder, string source)
    {
        if (!Directory.Exists(folder)) throw new DataFileException(folder, "data folder not found");
        string Find(string gzName)
        {
            string gz = Path.Combine(folder, gzName), plain = gz[..^3];
            return File.Exists(gz) ? gz : File.Exists(plain) ? plain : gz;
        }
        var paths = OfficialFiles.Select(f => Find(f.File)).ToArray();
        var arrays = paths.Select(IdxFile.Read).ToArray();
        var train = ImageSet.FromIdx(paths[0], arrays[0], paths[1], arrays[1], Classes);
        var test = ImageSet.FromIdx(paths[2], arrays[2], paths[3], arrays[3], Classes);
        if (test.Height != train.Height || test.Width != train.Width)
            throw new DataFileException(paths[2], $"images are {test.Height}x{test.Width} but the training images are {train.Height}x{train.Width}");
        return new ImageDataset(train, test, ClassNames, source);
    }
}
