namespace GpuCnn.Data;

/// <summary>A data file is missing, unreadable or malformed; the message names the file and the problem.</summary>
public sealed class DataFileException(string path, string problem, Exception? inner = null)
    : Exception($"{path}: {problem}", inner)
{
    public string Path { get; } = path;
    public string Problem { get; } = problem;
}
