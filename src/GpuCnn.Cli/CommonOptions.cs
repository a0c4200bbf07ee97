using System.CommandLine;
using GpuCnn.Data;
using GpuCnn.Devices;
using GpuCnn.Models;

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
        Description = "Folder holding your own copy of the four Fashion-MNIST IDX files (gzip or not); nothing is downloaded.",
    };

    public static Option<string?> CacheDir() => new("--cache-dir")
    {
        Description = "Where downloaded data is cached (default: $GPUCNN_CACHE, else ~/.cache/gpucnn).",
    };

    public static DataOptions Data(string? dataDir, string? cacheDir)
    {
        var options = new DataOptions { DataDir = dataDir };
        return cacheDir is null ? options : options with { CacheDir = cacheDir };
    }

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
