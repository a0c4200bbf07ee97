using System.Globalization;

namespace GpuCnn.Devices;

/// <summary>The host CPU's per-core L2 cache, for plans whose device is the host's own cores (PoCL).</summary>
public static class HostCache
{
    /// <summary>The L2 size of the first CPU in bytes, from Linux's sysfs; 0 where it cannot be read.</summary>
    public static long L2Bytes(string cpuFolder = "/sys/devices/system/cpu/cpu0/cache")
    {
        try
        {
            foreach (var index in Directory.EnumerateDirectories(cpuFolder, "index*"))
            {
                if (File.ReadAllText(Path.Combine(index, "level")).Trim() != "2") continue;
                return ParseSize(File.ReadAllText(Path.Combine(index, "size")));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return 0;
    }

    /// <summary>sysfs's size text ("512K", "2048K", "1M", or bytes) in bytes; 0 if it is none of these.</summary>
    public static long ParseSize(string text)
    {
        text = text.Trim();
        long unit = text.EndsWith('K') ? 1024 : text.EndsWith('M') ? 1024 * 1024 : 1;
        if (unit > 1) text = text[..^1];
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value) ? value * unit : 0;
    }
}
