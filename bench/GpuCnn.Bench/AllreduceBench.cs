using System.Diagnostics;
using GpuCnn.Mpi;
using GpuCnn.Models;

namespace GpuCnn.Bench;

/// <summary>
/// Under `mpiexec -n N`: the time of one MPI Allreduce (sum) of float buffers of 1-8 MiB and of
/// each zoo model's gradient, checked for exactness, and the data-parallel efficiency this
/// implies on paper, step / (step + allreduce), for the step times given with --step-ms. (Here
/// the ranks share two cores; on N GPUs each rank would have its own device.)
/// </summary>
public static class AllreduceBench
{
    public static int Run(IReadOnlyDictionary<string, double> stepMilliseconds)
    {
        using var mpi = MpiSession.Join() ?? throw new ArgumentException("--allreduce true needs mpiexec -n N with N of 2 or more");
        var sizes = new List<(string Name, int Floats)> { ("1 MiB", 1 << 18), ("2 MiB", 1 << 19), ("4 MiB", 1 << 20), ("8 MiB", 1 << 21) };
        using (var device = Devices.ComputeDevice.Open(Devices.DeviceKind.Cpu))
            foreach (var name in ModelZoo.Names)
            {
                using var model = ModelZoo.Create(name).Build(device, 1, 0);
                sizes.Add(($"{name} gradient", model.TrainableCount));
            }
        if (mpi.Rank == 0) Console.WriteLine($"MPI Allreduce (sum of floats) across {mpi.Size} ranks, mean of 20 after 3 warm-ups:");
        foreach (var (name, floats) in sizes)
        {
            var values = new float[floats];
            double ms = 0;
            for (int run = 0; run < 23; run++)
            {
                for (int i = 0; i < floats; i++) values[i] = mpi.Rank + 1 + i % 7;
                mpi.Barrier();
                var clock = Stopwatch.StartNew();
                mpi.AllreduceSum(values);
                if (run >= 3) ms += clock.Elapsed.TotalMilliseconds / 20;
            }
            // Small integers add exactly in floats: every element must be the exact sum over ranks.
            float ranks = mpi.Size, baseSum = ranks * (ranks + 1) / 2;
            bool exact = Enumerable.Range(0, floats).All(i => values[i] == baseSum + ranks * (i % 7));
            if (!exact) throw new InvalidOperationException($"allreduce of {name} gave a wrong sum");
            if (mpi.Rank != 0) continue;
            string efficiency = stepMilliseconds.TryGetValue(name.Replace(" gradient", ""), out double step)
                ? $"; at a {step:F1} ms step, {step / (step + ms):P0} efficiency on paper" : "";
            Console.WriteLine($"  {name,-18} {floats * 4.0 / (1 << 20),6:F2} MiB {ms,8:F2} ms (sum exact){efficiency}");
        }
        return 0;
    }
}
