using System.Globalization;

namespace GpuCnn.Layers;

/// <summary>
/// The accepted range of every layer option. <see cref="LayerConfig"/> reads a model file's
/// options through these, and every layer checks its own against them before anything is
/// allocated, so a layer written in code and one read from JSON are refused with the same line:
/// <c>layer conv2d_1: filters must be between 1 and 65536, got 0.</c>
/// </summary>
public static class LayerLimits
{
    public static readonly WholeRange Filters = new("filters", 1, 65536);
    public static readonly WholeRange Units = new("units", 1, 65536);
    public static readonly WholeRange KernelSize = new("kernel_size", 1, 64);
    public static readonly WholeRange Stride = new("stride", 1, 64);
    public static readonly WholeRange PoolSize = new("size", 1, 64);
    /// <summary>Each dimension of a model's input shape (height, width, channels).</summary>
    public static readonly WholeRange InputDimension = new("input_shape", 1, 65536);

    public static readonly RealRange DropoutRate = new("rate", 0, true, 1, false);
    public static readonly RealRange Momentum = new("momentum", 0, true, 1, true);
    public static readonly RealRange Epsilon = new("epsilon", 0, false, 1, true);

    public const int MaxLayers = 1000;
    public const int MaxNameLength = 128;

    /// <summary>
    /// Why a layer name cannot be used, or null. Names become parameter paths ("name/kernel") and
    /// appear in one-line messages, so '/' and control characters (line breaks) are refused.
    /// </summary>
    public static string? NameProblem(string name) =>
        name.Length > MaxNameLength ? $"a name must be at most {MaxNameLength} characters, got {name.Length}"
        : name.Any(c => c == '/' || char.IsControl(c)) ? $"a name must not hold '/' or control characters, got {Quoted(name)}"
        : null;

    /// <summary>Text as JSON writes it (quoted, control characters escaped), cut to 40 characters: safe inside a one-line message.</summary>
    public static string Quoted(string text) =>
        System.Text.Json.JsonSerializer.Serialize(text.Length > 40 ? text[..40] + "..." : text);

    /// <summary><see cref="Quoted"/> without its quotes.</summary>
    public static string Escaped(string text) => Quoted(text)[1..^1];

    /// <summary>n as messages write it (no digit grouping, whatever the culture).</summary>
    public static string Number(long n) => n.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A whole-number option's accepted range, both ends included.</summary>
public readonly record struct WholeRange(string Option, long Min, long Max)
{
    public string Text => $"between {Min} and {Max}";

    public bool Contains(long value) => value >= Min && value <= Max;

    /// <summary>ArgumentException naming <paramref name="owner"/> (e.g. "layer conv2d_1"), the option, the range and the value.</summary>
    public void Check(string owner, long value)
    {
        if (!Contains(value)) throw Refused(owner, LayerLimits.Number(value));
    }

    public ArgumentException Refused(string owner, string given) => new($"{owner}: {Option} must be {Text}, got {given}.");
}

/// <summary>A real-valued option's accepted range; each end included or not. NaN is outside every range.</summary>
public readonly record struct RealRange(string Option, double Min, bool MinIncluded, double Max, bool MaxIncluded)
{
    public string Text => (MinIncluded ? "at least " : "above ") + Min.ToString(CultureInfo.InvariantCulture) +
                          (MaxIncluded ? " and at most " : " and below ") + Max.ToString(CultureInfo.InvariantCulture);

    public bool Contains(double value) =>
        (MinIncluded ? value >= Min : value > Min) && (MaxIncluded ? value <= Max : value < Max);

    public void Check(string owner, float value)
    {
        if (!Contains(value)) throw Refused(owner, value.ToString(CultureInfo.InvariantCulture));
    }

    public ArgumentException Refused(string owner, string given) => new($"{owner}: {Option} must be {Text}, got {given}.");
}
