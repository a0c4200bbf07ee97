using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using GpuCnn.Devices;
using GpuCnn.Models;

namespace GpuCnn.Cli;

/// <summary>
/// Options several commands share, and the typed options every command builds from: each parses
/// its own text and, when the text is not a value it takes, reports one line naming the option,
/// the accepted values and what was given (never an exception).
/// </summary>
public static class CommonOptions
{
    public static Option<string> Device() =>
        OneOf("--device", "Accelerator: auto (CUDA, then OpenCL, then CPU), cuda, opencl or cpu.", "auto", ["auto", "cuda", "opencl", "cpu"]);

    public static DeviceKind ParseDevice(string name) => name switch
    {
        "cuda" => DeviceKind.Cuda,
        "opencl" => DeviceKind.OpenCL,
        "cpu" => DeviceKind.Cpu,
        _ => DeviceKind.Auto,
    };

    public static Option<string> Model() => OneOf("--model", "Model to build: " + string.Join(", ", ModelZoo.Names) + ".", "seed", ModelZoo.Names);

    public static Option<string?> DataDir() => new("--data-dir")
    {
        Description = "Your own data: a folder with the four Fashion-MNIST IDX files (gzip or not), or a folder of PNG/JPEG pictures with a subfolder per class (and optionally train/ and test/). Nothing is downloaded.",
    };

    public static Option<string?> CacheDir() => new("--cache-dir")
    {
        Description = "Where downloaded data is cached (default: $GPUCNN_CACHE, else ~/.cache/gpucnn).",
    };

    public static Option<string?> TensorBoard(string where) => new("--tensorboard")
    {
        Description = $"Folder for the TensorBoard events files (Keras's log_dir; default: {where}); view with: tensorboard --logdir DIR.",
    };

    public static Option<string> ImageSize()
    {
        var option = new Option<string>("--image-size")
        {
            Description = "With a folder of pictures: the size HxW they are resized to (default 28x28).",
            DefaultValueFactory = _ => "28x28",
        };
        option.Validators.Add(r =>
        {
            if (ParseImageSize(r.GetValueOrDefault<string>()!) is null)
                r.AddError($"--image-size must be HxW with sides from 1 to 1024, got '{r.GetValueOrDefault<string>()}'.");
        });
        return option;
    }

    /// <summary>Parses HxW; null when it is not two integers from 1 to 1024.</summary>
    public static (int Height, int Width)? ParseImageSize(string text)
    {
        var parts = text.Split('x', 'X');
        return parts.Length == 2 && int.TryParse(parts[0], out int h) && int.TryParse(parts[1], out int w) && h is > 0 and <= 1024 && w is > 0 and <= 1024
            ? (h, w) : null;
    }

    public static Option<int> Channels() => Int("--channels", "With a folder of pictures: 1 (grey) or 3 (RGB).", 1, 1, 3, v => v is 1 or 3, "1 or 3");

    /// <summary>The one text given for an option (the last, if it was given more than once).</summary>
    static string Text(ArgumentResult r) => r.Tokens.Count > 0 ? r.Tokens[^1].Value : "";

    /// <summary>A whole number from <paramref name="minimum"/> to <paramref name="maximum"/> (and, if given, one <paramref name="accepts"/> takes).</summary>
    public static Option<int> Int(string name, string description, int defaultValue, int minimum, int maximum = int.MaxValue,
        Func<int, bool>? accepts = null, string? accepted = null)
    {
        accepted ??= maximum == int.MaxValue ? $"a whole number of at least {minimum}" : $"a whole number from {minimum} to {maximum}";
        return new Option<int>(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            CustomParser = r =>
            {
                string text = Text(r);
                if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= minimum && v <= maximum && (accepts?.Invoke(v) ?? true))
                    return v;
                r.AddError($"{name} must be {accepted}, got '{text}'.");
                return defaultValue;
            },
        };
    }

    /// <summary>A whole number of at least <paramref name="minimum"/>, or absent.</summary>
    public static Option<int?> OptionalInt(string name, string description, int minimum) => new(name)
    {
        Description = description,
        CustomParser = r =>
        {
            string text = Text(r);
            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= minimum) return v;
            r.AddError($"{name} must be a whole number of at least {minimum}, got '{text}'.");
            return null;
        },
    };

    /// <summary>A finite number that <paramref name="accepts"/> takes, described by <paramref name="accepted"/>.</summary>
    public static Option<double> Number(string name, string description, double defaultValue, Func<double, bool> accepts, string accepted) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r =>
        {
            string text = Text(r);
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) && accepts(v)) return v;
            r.AddError($"{name} must be {accepted}, got '{text}'.");
            return defaultValue;
        },
    };

    /// <summary>One of a list of names.</summary>
    public static Option<string> OneOf(string name, string description, string defaultValue, IReadOnlyList<string> values) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r =>
        {
            string text = Text(r);
            if (values.Contains(text)) return text;
            r.AddError($"{name} must be one of {string.Join(", ", values)}; got '{text}'.");
            return defaultValue;
        },
    };

    /// <summary>One or more names of a list, each once.</summary>
    public static Option<string[]> SomeOf(string name, string description, IReadOnlyList<string> values) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => [.. values],
        AllowMultipleArgumentsPerToken = true,
        CustomParser = r =>
        {
            var given = r.Tokens.Select(t => t.Value).ToArray();
            if (given.FirstOrDefault(v => !values.Contains(v)) is { } bad)
                r.AddError($"{name} takes names among {string.Join(", ", values)}; got '{bad}'.");
            else if (given.Length == 0 || given.Distinct().Count() != given.Length)
                r.AddError($"{name} takes one or more different names among {string.Join(", ", values)}.");
            return given;
        },
    };

    /// <summary>The command line as a user typed it, for the run's records.</summary>
    public static string CommandLine() => "gpucnn " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1));

    /// <summary>A path made absolute, so that a later --resume from elsewhere finds the same folder.</summary>
    public static string? FullPath(string? path) => path is null ? null : Path.GetFullPath(path);
}
