using System.Diagnostics;
using System.Runtime.Intrinsics;
using GpuCnn.Devices;
using ILGPU.Runtime.Cuda;

namespace GpuCnn.Bench;

/// <summary>
/// The ceilings each kernel is compared with. On a CPU device (ILGPU's CPU accelerator, PoCL) they
/// are measured in the same run: the scalar C# GEMM and a plain parallel memory copy on all cores,
/// and the host's vector FMA peak (<see cref="FmaCeiling"/>). On a GPU both GFLOP/s figures are
/// the device's peak computed from its properties.
/// </summary>
public static class Ceilings
{
    public static Ceiling For(ComputeDevice device, double seconds)
    {
        if (device.Accelerator is CudaAccelerator cuda) return ForCuda(cuda);
        // Warm up the JIT (tiered compilation) before the measured runs, then keep the best.
        ScalarCeiling.MeasureGflops(512, 512, 512, seconds / 2);
        double gflops = Math.Max(ScalarCeiling.MeasureGflops(512, 512, 512, seconds),
            ScalarCeiling.MeasureGflops(512, 512, 512, seconds));
        var (fmaGflops, width) = FmaCeiling.Measure(seconds);
        return new Ceiling("scalar C# GEMM 512³ and parallel copy, all cores, this run", gflops, CopyBandwidth(seconds),
            fmaGflops, $"C# {width}, this run")
        {
            Fma256Gflops = Vector512.IsHardwareAccelerated && device.Plan.VectorBits == 0 ? FmaCeiling.Measure(seconds, widest: false).Gflops : null,
        };
    }

    static Ceiling ForCuda(CudaAccelerator cuda)
    {
        var arch = cuda.Architecture;
        int coresPerSm = arch is { Major: 6, Minor: 0 } or { Major: 7 } or { Major: 8, Minor: 0 } ? 64 : 128;
        double gflops = 2.0 * cuda.NumMultiprocessors * coresPerSm * cuda.ClockRate / 1e6;
        double gbps = 2.0 * cuda.MemoryClockRate * 1e3 * (cuda.MemoryBusWidth / 8.0) / 1e9;
        string source = $"peak of {cuda.Name} from its properties (sm_{arch.Major}{arch.Minor})";
        return new Ceiling(source, gflops, gbps, gflops, source);
    }

    /// <summary>GB/s of reading and writing a 64 MiB float array on all cores.</summary>
    static double CopyBandwidth(double seconds)
    {
        var source = new float[16 << 20];
        var target = new float[source.Length];
        int parts = Environment.ProcessorCount * 4, chunk = source.Length / parts;
        void Copy() => Parallel.For(0, parts, p => Array.Copy(source, p * chunk, target, p * chunk, chunk));
        Copy();
        int runs = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds || runs < 3)
        {
            Copy();
            runs++;
        }
        return 2.0 * source.Length * sizeof(float) * runs / clock.Elapsed.TotalSeconds / 1e9;
    }
}
