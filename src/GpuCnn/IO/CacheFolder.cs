namespace GpuCnn.IO;

/// <summary>
/// GpuCnn's cache folder, for downloaded data and per-device measurements: $GPUCNN_CACHE, else
/// $XDG_CACHE_HOME/gpucnn, else the user's cache folder's gpucnn (~/.cache/gpucnn; on Windows,
/// under LocalApplicationData).
/// </summary>
public static class CacheFolder
{
    public static string Root()
    {
        string? own = Environment.GetEnvironmentVariable("GPUCNN_CACHE");
        if (!string.IsNullOrEmpty(own)) return own;
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string root = !string.IsNullOrEmpty(xdg) ? xdg
            : OperatingSystem.IsWindows() ? Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData)
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "gpucnn");
    }
}
