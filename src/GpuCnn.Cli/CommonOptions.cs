using System.CommandLine;
using GpuCnn.Data;
using GpuCnn.Devices;
using GpuCnn.Models;
using GpuCnn.Training;

namespace GpuCnn.Cli;

/// <summary>Options several commands share, with their validation.</summary>
public static class CommonOptions
{
    public static Option<string> Device() => new Option<string>("--device")
    {
        Description = "Accelerator: auto (CUDA, then OpenCL, then CPU), cuda, opencl or cpu.",
        DefaultValueFactory = _ => "auto",
    }.AcceptOnlyFromAmong("auto", "cuda", "opencl", "cpu");

    public static DeviceKind ParseDevice(string name) => name switch
    {
        "cuda" => DeviceKind.Cuda,
        "opencl" => DeviceKind.OpenCL,
        "cpu" => DeviceKind.Cpu,
        _ => DeviceKind.Auto,
    };

    public static Option<string> Model() => new Option<string>("--model")
    {
        Description = "Model to build: " + string.Join(", ", ModelZoo.Names) + ".",
        DefaultValueFactory = _ => "seed",
    }.AcceptOnlyFromAmong([.. ModelZoo.Names]);

    public static Option<string?> DataDir() => new("--data-dir")
    {
        Description = "Your own data: a folder with the four Fashion-MNIST IDX files (gzip or not), or a folder of PNG/JPEG pictures with a subfolder per class (and optionally train/ and test/). Nothing is downloaded.",
    };

    public static Option<string?> CacheDir() => new("--cache-dir")
    {
        Description = "Where downloaded data is cached (default: $GPUCNN_CACHE, else ~/.cache/gpucnn).",
    };

    public static DataOptions Data(string? dataDir, string? cacheDir, TrainingOptions? pictures = null)
    {
        var options = new DataOptions { DataDir = dataDir };
        if (pictures is not null)
            options = options with
            {
                Pictures = new ImageFolderOptions(pictures.ImageHeight, pictures.ImageWidth, pictures.Channels, pictures.SkipBadImages, Seed: pictures.Seed),
            };
        return cacheDir is null ? options : options with { CacheDir = cacheDir };
    }

    public static Option<string> ImageSize() => new("--image-size")
    {
        Description = "With a folder of pictures: the size HxW they are resized to (default 28x28).",
        DefaultValueFactory = _ => "28x28",
    };

    /// <summary>Parses HxW; null when it is not two positive integers.</summary>
    public static (int Height, int Width)? ParseImageSize(string text)
    {
        var parts = text.Split('x', 'X');
        return parts.Length == 2 && int.TryParse(parts[0], out int h) && int.TryParse(parts[1], out int w) && h is > 0 and <= 1024 && w is > 0 and <= 1024
            ? (h, w) : null;
    }

    public static Option<int> Channels() => new Option<int>("--channels")
    {
        Description = "With a folder of pictures: 1 (grey) or 3 (RGB).",
        DefaultValueFactory = _ => 1,
    }.AcceptOnlyFromAmong("1", "3");

    /// <summary>An integer option that must be at least <paramref name="minimum"/>.</summary>
    public static Option<int> AtLeast(string name, string description, int defaultValue, int minimum)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < minimum)
                result.AddError($"{name} must be at least {minimum}, got {result.GetValueOrDefault<int>()}.");
        });
        return option;
    }
}
