namespace GpuCnn.Data;

/// <summary>
/// Which images a run trains on: Fashion-MNIST from the cache, or a folder of your own (IDX files
/// or pictures), the first N training images, and how pictures are read. The data part of a run's
/// settings; a checkpoint keeps it so that a resumed run trains on the same images.
/// </summary>
public sealed record DataSpec
{
    /// <summary>A folder with the four IDX files or a folder of pictures (null: Fashion-MNIST from the cache).</summary>
    public string? DataDir { get; init; }
    /// <summary>Where downloaded data is cached (null: <see cref="DataOptions.DefaultCacheDir"/>).</summary>
    public string? CacheDir { get; init; }
    /// <summary>Use only the first N training images (quick runs); null: all.</summary>
    public int? TrainLimit { get; init; }
    /// <summary>For a folder of pictures: the size they are resized to, and 1 (grey) or 3 (RGB) channels.</summary>
    public int ImageHeight { get; init; } = 28;
    public int ImageWidth { get; init; } = 28;
    public int Channels { get; init; } = 1;
    /// <summary>Skip and list pictures that cannot be decoded instead of stopping.</summary>
    public bool SkipBadImages { get; init; }

    /// <summary>The loader's settings; <paramref name="seed"/> splits a folder of pictures into train and test.</summary>
    public DataOptions LoaderOptions(int seed)
    {
        var options = new DataOptions
        {
            DataDir = DataDir,
            Pictures = new ImageFolderOptions(ImageHeight, ImageWidth, Channels, SkipBadImages, Seed: seed),
        };
        return CacheDir is null ? options : options with { CacheDir = CacheDir };
    }

    /// <summary>The data set, fetched into the cache if need be, with the training images cut to <see cref="TrainLimit"/>.</summary>
    public ImageDataset Load(int seed, Action<string>? log = null)
    {
        var data = new FashionMnistStore(LoaderOptions(seed), log).Load();
        return TrainLimit is { } limit ? data with { Train = data.Train.Take(limit) } : data;
    }
}
