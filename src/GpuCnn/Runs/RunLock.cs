using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace GpuCnn.Runs;

/// <summary>
/// A run folder's owner: the file run.lock, created exclusively (O_EXCL), naming the host, the
/// process and when that process started. A second process that wants the folder (a second
/// train into it, a resume of a live run) is refused with the owner's name. A lock whose process
/// is gone (killed, crashed) is stale and taken over; the owner removes it when it is done.
/// </summary>
public sealed class RunLock : IDisposable
{
    public const string FileName = "run.lock";

    readonly string path;
    readonly string content;
    bool released;

    RunLock(string path, string content)
    {
        this.path = path;
        this.content = content;
    }

    sealed record Owner(string Host, int Pid, long ProcessStart, string Since);

    /// <summary>Takes the folder (creating it if need be), or throws RunException naming the folder and its live owner.</summary>
    public static RunLock Acquire(string folder)
    {
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, FileName);
        using var self = Process.GetCurrentProcess();
        string content = JsonSerializer.Serialize(new Owner(Environment.MachineName, Environment.ProcessId,
            self.StartTime.ToUniversalTime().Ticks, DateTime.UtcNow.ToString("u", CultureInfo.InvariantCulture)));
        for (int attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    stream.Write(System.Text.Encoding.UTF8.GetBytes(content));
                    stream.Flush(flushToDisk: true);
                }
                return new RunLock(path, content);
            }
            catch (IOException) when (File.Exists(path))
            {
                var owner = AwaitOwner(path);
                // The owner finished and removed its lock meanwhile: try again.
                if (owner is null && !File.Exists(path)) continue;
                if (owner is null || IsAlive(owner))
                    throw new RunException(owner is null
                        ? $"run folder {folder} is in use: {FileName} is being written by another process."
                        : $"run folder {folder} is in use by process {owner.Pid} on {owner.Host} (since {owner.Since}); " +
                          (owner.Host == Environment.MachineName ? "wait for it to end." : $"if that process is gone, delete {path}."));
                // The owner is gone: its lock is stale.
                File.Delete(path);
            }
        }
        throw new RunException($"run folder {folder}: could not take {FileName}; another process keeps taking it.");
    }

    /// <summary>Whether a live process owns <paramref name="folder"/> now (a run in progress); a stale lock is no owner.</summary>
    public static bool IsHeld(string folder)
    {
        string path = Path.Combine(folder, FileName);
        return File.Exists(path) && (ReadOwner(path) is not { } owner || IsAlive(owner));
    }

    /// <summary>
    /// The owner a lock file names, given up to two seconds to finish writing it: a second process
    /// started with the first meets the file between its creation and its content.
    /// </summary>
    static Owner? AwaitOwner(string path)
    {
        var clock = Stopwatch.StartNew();
        Owner? owner;
        while ((owner = ReadOwner(path)) is null && File.Exists(path) && clock.Elapsed < TimeSpan.FromSeconds(2)) Thread.Sleep(20);
        return owner;
    }

    /// <summary>The owner a lock file names; null while its writer has not finished it (or, after a minute, a stale unreadable one).</summary>
    static Owner? ReadOwner(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<Owner>(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            // A process killed between creating the file and writing it leaves it empty.
            return File.Exists(path) && DateTime.UtcNow - File.GetLastWriteTimeUtc(path) > TimeSpan.FromMinutes(1)
                ? new Owner("", 0, 0, "") : null;
        }
    }

    /// <summary>Whether the owner still runs: on this host, a process of that pid that started when the owner did (within 2 s); on another host, assumed.</summary>
    static bool IsAlive(Owner owner)
    {
        if (owner.Pid == 0) return false;
        if (owner.Host != Environment.MachineName) return true;
        try
        {
            using var process = Process.GetProcessById(owner.Pid);
            // Start times are derived from the boot time, which each process computes a little differently: a pid reused later differs by far more.
            return !process.HasExited && Math.Abs(process.StartTime.ToUniversalTime().Ticks - owner.ProcessStart) < TimeSpan.TicksPerSecond * 2;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    /// <summary>Gives the folder up: removes run.lock if it is still this process's.</summary>
    public void Dispose()
    {
        if (released) return;
        released = true;
        try
        {
            if (File.Exists(path) && File.ReadAllText(path) == content) File.Delete(path);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
