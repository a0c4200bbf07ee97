using System.Diagnostics;
using GpuCnn.Devices;

namespace GpuCnn.Bench;

/// <summary>
/// Time per kernel over some work: waits for the device after every launch, so launches do not
/// overlap and each is timed alone (slower in all than the unprofiled run). `--profile`.
/// </summary>
public sealed class KernelProfile
{
    readonly ComputeDevice device;
    readonly Dictionary<string, (double Milliseconds, int Launches)> totals = [];
    readonly Stopwatch clock = new();
    string? running;

    public KernelProfile(ComputeDevice device) => this.device = device;

    public void Run(Action work)
    {
        device.Kernels.Observer = record =>
        {
            Close();
            running = $"{record.Kernel} ({record.WorkItems}x{record.SerialLoop})";
            clock.Restart();
        };
        try
        {
            work();
        }
        finally
        {
            Close();
            device.Kernels.Observer = null;
        }
    }

    void Close()
    {
        device.Synchronize();
        if (running is null) return;
        var (ms, launches) = totals.GetValueOrDefault(running);
        totals[running] = (ms + clock.Elapsed.TotalMilliseconds, launches + 1);
        running = null;
    }

    public void Print(string title)
    {
        Console.WriteLine($"\nkernel profile: {title} (device synchronised after each launch)");
        foreach (var (kernel, (ms, launches)) in totals.OrderByDescending(t => t.Value.Milliseconds))
            Console.WriteLine($"  {kernel,-48} {launches,4} launches {ms,10:F2} ms");
        Console.WriteLine($"  {"total",-48} {totals.Values.Sum(t => t.Launches),4} launches {totals.Values.Sum(t => t.Milliseconds),10:F2} ms");
    }
}
