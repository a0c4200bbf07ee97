namespace GpuCnn.Bench;

/// <summary>
/// One measured line: a kernel pass on one shape, or a whole model's training throughput.
/// CheckError: the pass's largest difference from the reference device (PassCheck), checked before timing.
/// </summary>
public sealed record BenchResult(string Name, string Shape, double Milliseconds, string Unit, double Rate, double? CeilingFraction,
    double? CheckError = null);

/// <summary>What bounds a kernel on this device: a GEMM ceiling (GFLOP/s) and a copy ceiling (GB/s).</summary>
public sealed record Ceiling(string Source, double Gflops, double GBytesPerSecond);
