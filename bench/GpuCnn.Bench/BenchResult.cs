namespace GpuCnn.Bench;

/// <summary>
/// One measured line: a kernel pass on one shape, or a whole model's training throughput.
/// CeilingFraction: the rate as a share of the scalar GEMM ceiling (GFLOP/s) or the copy bandwidth (GB/s).
/// PeakFraction: the rate as a share of the FMA peak (GFLOP/s) or the copy bandwidth (GB/s); for a
/// training step, its EffectiveGflops (the GEMM passes' FLOP per image × images/s) as a share of the FMA peak.
/// CheckError: the pass's largest difference from the reference device (PassCheck), checked before timing.
/// </summary>
public sealed record BenchResult(string Name, string Shape, double Milliseconds, string Unit, double Rate, double? CeilingFraction,
    double? CheckError = null, double? PeakFraction = null, double? EffectiveGflops = null);

/// <summary>
/// What bounds a kernel on this device: a GEMM ceiling (GFLOP/s), a copy ceiling (GB/s) and the
/// fused multiply-add peak (GFLOP/s; FmaSource says which vector width, or that it is a GPU's peak on paper).
/// </summary>
public sealed record Ceiling(string Source, double Gflops, double GBytesPerSecond, double FmaGflops, string FmaSource)
{
    /// <summary>On a host whose peak is measured with Vector512, for a plan that does not ask for 512-bit vectors: the peak with Vector256, the widest PoCL's code then uses; else null.</summary>
    public double? Fma256Gflops { get; init; }
}
