namespace GpuCnn.IO;

/// <summary>
/// A file of a run or of the cache could not be written (disk full, permission lost, read-only
/// file system). The message names the file and says that its previous version is kept: every
/// such write goes to a temporary file first.
/// </summary>
public sealed class FileWriteException(string path, Exception inner)
    : IOException($"cannot write {path}: {inner.Message.Split(" : ")[0].TrimEnd('.')}; its previous version, if any, is kept", inner)
{
    public string Path { get; } = path;
}
