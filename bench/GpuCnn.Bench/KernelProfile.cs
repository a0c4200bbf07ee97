using System.Diagnostics;
using GpuCnn.Devices;

namespace GpuCnn.Bench;

/// <summary>
/// Time per kernel over some work: waits for the device after every launch, so launches do not
/// overlap and each is timed alone (slower in all than the unprofiled run). `--profile`. A launch's
/// time runs from its launch to the next one's, so it holds one wait for the device (measured and
/// printed, as it dwarfs the smallest kernels) and whatever the host did in between. Each Run is
/// one step; with several, each kernel's line gives its fastest step and its median step, as a
/// shared host's other tenants slow some steps down many times over.
/// </summary>
public sealed class KernelProfile
{
    readonly ComputeDevice device;
    readonly List<Dictionary<string, (double Milliseconds, int Launches)>> steps = [];
    readonly Stopwatch clock = new();
    Dictionary<string, (double Milliseconds, int Launches)> totals = [];
    string? running;

    public KernelProfile(ComputeDevice device) => this.device = device;

    /// <summary>Times one step of work, launch by launch.</summary>
    public void Run(Action work)
    {
        totals = [];
        steps.Add(totals);
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

    /// <summary>The median time of a 16-float ReLU launched and waited for: what each profiled launch pays for the wait.</summary>
    public double RoundTripMilliseconds()
    {
        using var buffer = device.Accelerator.Allocate1D<float>(16);
        var times = new double[55];
        for (int i = 0; i < times.Length; i++)
        {
            var clock = Stopwatch.StartNew();
            device.Kernels.ReluForward(buffer.View, buffer.View);
            device.Synchronize();
            times[i] = clock.Elapsed.TotalMilliseconds;
        }
        var timed = times[5..]; // the first launches load the kernel
        Array.Sort(timed);
        return timed[timed.Length / 2];
    }

    public void Print(string title)
    {
        Console.WriteLine($"\nkernel profile: {title}, {steps.Count} {(steps.Count == 1 ? "step" : "steps")} (device synchronised after each launch; a launch and wait of a " +
            $"16-float ReLU takes {RoundTripMilliseconds():F3} ms here, the median of 50, so each launch below holds about that much waiting)");
        Console.WriteLine($"  {"kernel (work-items x serial loop)",-48} {"a step",13} {"fastest",14} {"median",13}");
        // Each kernel over the steps that ran it (the first step's launches where several ran it).
        var lines = steps.SelectMany(step => step.Keys).Distinct().Select(kernel => (Kernel: kernel,
            steps.First(step => step.ContainsKey(kernel))[kernel].Launches,
            Times: steps.Where(step => step.ContainsKey(kernel)).Select(step => step[kernel].Milliseconds).Order().ToArray())).ToList();
        foreach (var (kernel, launches, times) in lines.OrderByDescending(line => Median(line.Times)))
            Console.WriteLine($"  {kernel,-48} {launches,4} launches {times[0],11:F2} ms {Median(times),10:F2} ms");
        var stepTimes = steps.Select(step => step.Values.Sum(t => t.Milliseconds)).Order().ToArray();
        Console.WriteLine($"  {"total",-48} {steps[0].Values.Sum(t => t.Launches),4} launches {stepTimes[0],11:F2} ms {Median(stepTimes),10:F2} ms");
    }

    static double Median(double[] sorted) => sorted[sorted.Length / 2];
}
