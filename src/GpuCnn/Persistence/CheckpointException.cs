namespace GpuCnn.Persistence;

/// <summary>A checkpoint or model file cannot be used; the message names the file and the reason.</summary>
public sealed class CheckpointException(string path, string problem, Exception? inner = null)
    : Exception($"{path}: {problem}", inner);
