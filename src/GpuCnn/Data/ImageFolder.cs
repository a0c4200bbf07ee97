using GpuCnn.Randomness;

namespace GpuCnn.Data;

/// <summary>How a folder of pictures becomes a data set (`--image-size`, `--channels`, `--skip-bad-images`).</summary>
public sealed record ImageFolderOptions(int Height = 28, int Width = 28, int Channels = 1, bool SkipBadImages = false,
    double TestShare = 0.2, int Seed = 42);

/// <summary>
/// A folder of your own pictures, laid out as PyTorch's ImageFolder and Keras's
/// image_dataset_from_directory read it: one subfolder per class holding PNG/JPEG files. Class
/// names are the subfolder names, sorted (ordinal), and label i is the i-th. With train/ and
/// test/ subfolders (each laid out so) those are the two sets; otherwise a seeded split holds out
/// TestShare of each class as the test set.
/// </summary>
public static class ImageFolder
{
    /// <summary>Whether a folder looks like one: a subfolder with pictures in it, and no IDX files.</summary>
    public static bool IsImageFolder(string folder) =>
        Directory.Exists(folder) && !Directory.EnumerateFiles(folder, "*idx*-ubyte*").Any()
        && Directory.EnumerateDirectories(folder).Any(d =>
            Directory.EnumerateFiles(d).Any(PictureFiles.IsPicture)
            || Directory.EnumerateDirectories(d).Any(c => Directory.EnumerateFiles(c).Any(PictureFiles.IsPicture)));

    public static ImageDataset Read(string folder, ImageFolderOptions options, Action<string>? log = null)
    {
        if (!Directory.Exists(folder)) throw new DataFileException(folder, "data folder not found");
        var decoder = PictureFiles.Require();
        string train = Path.Combine(folder, "train"), test = Path.Combine(folder, "test");
        bool split = !(Directory.Exists(train) && Directory.Exists(test));
        string[] classes = ClassFolders(split ? folder : train);
        if (classes.Length < 2)
            throw new DataFileException(folder, $"needs a subfolder per class (at least 2) holding PNG or JPEG pictures; found {classes.Length}");
        var bad = new List<string>();
        ImageDataset result;
        if (split)
        {
            var all = Files(folder, classes);
            var (trainFiles, testFiles) = Split(all, options);
            result = new ImageDataset(Load(trainFiles, options, decoder, bad), Load(testFiles, options, decoder, bad), classes,
                $"folder {folder} ({classes.Length} classes, {1 - options.TestShare:P0} / {options.TestShare:P0} split, seed {options.Seed})");
        }
        else
        {
            var testClasses = ClassFolders(test);
            if (!testClasses.SequenceEqual(classes))
                throw new DataFileException(test, $"has classes {string.Join(", ", testClasses)} but train/ has {string.Join(", ", classes)}");
            result = new ImageDataset(Load(Interleaved(Files(train, classes), options.Seed), options, decoder, bad), Load(Files(test, classes), options, decoder, bad), classes,
                $"folder {folder} (train/ and test/, {classes.Length} classes)");
        }
        if (bad.Count > 0)
            log?.Invoke($"skipped {bad.Count} unreadable picture{(bad.Count == 1 ? "" : "s")}: {string.Join(", ", bad.Take(5))}{(bad.Count > 5 ? ", ..." : "")}");
        if (result.Train.Count == 0 || result.Test.Count == 0)
            throw new DataFileException(folder, $"leaves {result.Train.Count} training and {result.Test.Count} test pictures; both sets need some");
        return result;
    }

    /// <summary>
    /// The class subfolders, sorted; hidden ones (".name") are not classes. A class folder with no
    /// pictures is refused, naming it: dropping it would renumber the classes after it.
    /// </summary>
    static string[] ClassFolders(string folder)
    {
        var classes = Directory.EnumerateDirectories(folder).Where(d => !Path.GetFileName(d).StartsWith('.'))
            .Order(StringComparer.Ordinal).ToArray();
        foreach (var classFolder in classes)
            if (!Directory.EnumerateFiles(classFolder).Any(PictureFiles.IsPicture))
                throw new DataFileException(classFolder, "the class folder holds no PNG or JPEG pictures; add some or remove the folder");
        return [.. classes.Select(Path.GetFileName)!];
    }

    static List<(string Path, byte Label)> Files(string folder, string[] classes)
    {
        if (classes.Length > 256) throw new DataFileException(folder, $"has {classes.Length} classes; at most 256 are supported");
        var files = new List<(string, byte)>();
        for (int label = 0; label < classes.Length; label++)
            files.AddRange(Directory.EnumerateFiles(Path.Combine(folder, classes[label])).Where(PictureFiles.IsPicture)
                .Order(StringComparer.Ordinal).Select(f => (f, (byte)label)));
        return files;
    }

    /// <summary>Holds out TestShare of each class, chosen by a seeded shuffle, so every class is in both sets.</summary>
    static (List<(string, byte)> Train, List<(string, byte)> Test) Split(List<(string Path, byte Label)> files, ImageFolderOptions options)
    {
        var train = new List<(string, byte)>();
        var test = new List<(string, byte)>();
        foreach (var group in files.GroupBy(f => f.Label))
        {
            var items = group.ToArray();
            new SeededRandom(options.Seed + group.Key).Shuffle(items);
            int held = (int)Math.Round(items.Length * options.TestShare);
            test.AddRange(items[..held]);
            train.AddRange(items[held..]);
        }
        return (Interleaved(train, options.Seed), test);
    }

    /// <summary>
    /// The training pictures in a seeded shuffle of the whole set: a training order should not be
    /// class by class, and the validation split takes the last ones, which would be whole classes.
    /// </summary>
    static List<(string, byte)> Interleaved(List<(string, byte)> train, int seed)
    {
        var shuffled = train.ToArray();
        new SeededRandom(seed).Shuffle(shuffled);
        return [.. shuffled];
    }

    static ImageSet Load(List<(string Path, byte Label)> files, ImageFolderOptions options, IPictureDecoder decoder, List<string> bad)
    {
        int size = options.Height * options.Width * options.Channels;
        var pixels = new List<byte>(files.Count * size);
        var labels = new List<byte>(files.Count);
        var unreadable = new List<string>();
        string? firstProblem = null;
        foreach (var (path, label) in files)
        {
            try
            {
                pixels.AddRange(decoder.Read(path, options.Height, options.Width, options.Channels));
                labels.Add(label);
            }
            catch (DataFileException e)
            {
                unreadable.Add(path);
                firstProblem ??= e.Problem;
            }
        }
        if (unreadable.Count > 0 && !options.SkipBadImages)
            throw new DataFileException(unreadable[0],
                $"{unreadable.Count} picture{(unreadable.Count == 1 ? "" : "s")} cannot be decoded: {string.Join(", ", unreadable.Take(10))}" +
                $"{(unreadable.Count > 10 ? ", ..." : "")}; fix or remove them, or skip bad pictures (the first: {firstProblem})");
        bad.AddRange(unreadable);
        return new ImageSet([.. pixels], [.. labels], options.Height, options.Width, options.Channels);
    }
}
