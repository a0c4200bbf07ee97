using System.Globalization;

namespace GpuCnn.Board;

/// <summary>
/// A run's metrics.csv as the page takes it: one row per epoch, each a map from the header's
/// column names to numbers (null where a value is not a finite number, e.g. no validation set).
/// The header is read, not assumed, so runs written by older versions with fewer columns show
/// what they have.
/// </summary>
public static class MetricsTable
{
    /// <summary>The rows of <paramref name="file"/>; none when it is absent or unreadable (a run that has not finished an epoch).</summary>
    public static IReadOnlyList<Dictionary<string, double?>> Read(string file)
    {
        string[] lines;
        try
        {
            // RunFolder replaces the file by a rename, so a read sees the old file or the new one, whole.
            lines = File.ReadAllLines(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
        if (lines.Length == 0) return [];
        var columns = lines[0].Split(',');
        var rows = new List<Dictionary<string, double?>>();
        foreach (var line in lines.Skip(1))
        {
            var cells = line.Split(',');
            if (cells.Length != columns.Length) continue;
            var row = new Dictionary<string, double?>(columns.Length);
            for (int i = 0; i < columns.Length; i++)
                row[columns[i]] = double.TryParse(cells[i], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v : null;
            rows.Add(row);
        }
        return rows;
    }
}
