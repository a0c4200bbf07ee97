using System.Text.Json;

namespace GpuCnn.Persistence;

/// <summary>
/// Reads a field of a hand-written JSON schema by name and type, or says which field is missing
/// or of the wrong type (JsonException): settings files are read field by field, never by
/// reflection, so a renamed C# property cannot change a file format.
/// </summary>
static class JsonFields
{
    public static JsonElement Get(this JsonElement o, string name, JsonValueKind kind)
    {
        if (o.ValueKind != JsonValueKind.Object) throw new JsonException($"'{name}' is read from something that is not an object");
        if (!o.TryGetProperty(name, out var value)) throw new JsonException($"'{name}' is missing");
        bool fits = kind switch
        {
            JsonValueKind.True or JsonValueKind.False => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
            _ => value.ValueKind == kind,
        };
        return fits ? value : throw new JsonException($"'{name}' should be {kind.ToString().ToLowerInvariant()}, not {value.ValueKind.ToString().ToLowerInvariant()}");
    }

    public static JsonElement? Optional(this JsonElement o, string name) =>
        o.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public static int Int(this JsonElement o, string name) =>
        o.Get(name, JsonValueKind.Number).TryGetInt32(out int v) ? v : throw new JsonException($"'{name}' is not a 32-bit integer");

    public static long Long(this JsonElement o, string name) =>
        o.Get(name, JsonValueKind.Number).TryGetInt64(out long v) ? v : throw new JsonException($"'{name}' is not an integer");

    public static int? IntOrNull(this JsonElement o, string name) => o.Optional(name) is null ? null : o.Int(name);

    public static double Double(this JsonElement o, string name) => o.Get(name, JsonValueKind.Number).GetDouble();

    /// <summary>A number that older files may lack: its value, or <paramref name="absent"/>.</summary>
    public static double DoubleOr(this JsonElement o, string name, double absent) => o.Optional(name) is null ? absent : o.Double(name);

    /// <summary>A number, or null for a figure that was not finite (a run without validation has no validation loss).</summary>
    public static double DoubleOrNaN(this JsonElement o, string name) => o.Optional(name) is null ? double.NaN : o.Double(name);

    public static string String(this JsonElement o, string name) => o.Get(name, JsonValueKind.String).GetString()!;

    public static string? StringOrNull(this JsonElement o, string name) => o.Optional(name) is null ? null : o.String(name);

    public static bool Bool(this JsonElement o, string name) => o.Get(name, JsonValueKind.True).GetBoolean();

    /// <summary>As <see cref="DoubleOr"/>, for a boolean.</summary>
    public static bool BoolOr(this JsonElement o, string name, bool absent) => o.Optional(name) is null ? absent : o.Bool(name);

    public static int[] Ints(this JsonElement o, string name) =>
        [.. o.Get(name, JsonValueKind.Array).EnumerateArray().Select(e => e.TryGetInt32(out int v) ? v : throw new JsonException($"'{name}' holds a value that is not an integer"))];

    /// <summary>Writes a number, or null when it is not finite (JSON has no NaN).</summary>
    public static void WriteFinite(this Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value)) w.WriteNumber(name, value);
        else w.WriteNull(name);
    }
}
