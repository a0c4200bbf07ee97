using GpuCnn.IO;
using System.Text.Json;
using GpuCnn.Bench;
using GpuCnn.Devices;
using GpuCnn.Models;

// Usage: dotnet run -c Release --project bench/GpuCnn.Bench -- [--device cpu|cuda|opencl|auto]
//        [--gemm register|blocked|shared|generic] [--conv auto|im2col|implicit|winograd] [--models seed,...] [--seconds S] [--batches N] [--json FILE]
//        [--profile true] (time per kernel of one training step) [--layers false] (end to end only)
//        [--fashion-mnist true] (end to end on the cached Fashion-MNIST training images, not random ones)
//        [--group-size N] (work-items per group of the implicitly grouped kernels; 0: ILGPU's choice)
//        [--vector-bits 0|512] (the vector width the OpenCL compiler is asked to prefer; 0: its own choice)
//        [--kernel "seed conv2d_1"] (the workbench: only that layer's passes, checked then timed; --batches 0 skips end to end)
//        [--variant V] (with --kernel: a --gemm or --conv value, whichever names it, or tile4x16 .. tile6x32: the implicit
//                       convolutions' register tiles, which the OpenCL-CPU plan otherwise measures per layer shape)
//        [--allreduce true] [--step-ms seed=37.6,...] (under mpiexec -n N: MPI Allreduce times and efficiency on paper)
//        [--streams-ab true] (the passes a plan with a stream chunk launches in runs of items, against one item a work-item, alternating in one process)
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine("usage: GpuCnn.Bench [--device cpu|cuda|opencl|auto] [--gemm register|blocked|shared|generic] [--conv auto|im2col|implicit|winograd]\n" +
        "  [--models seed,...] [--seconds S] [--batches N] [--batch-size N] [--json FILE] [--profile true] [--layers false] [--fashion-mnist true]\n" +
        "  [--group-size N] [--vector-bits 0|512] [--kernel \"MODEL LAYER\"] [--variant GEMM|CONV|tileRxF] [--allreduce true] [--step-ms seed=37.6,...] [--streams-ab true]\n" +
        "  (what each measures: the comment atop bench/GpuCnn.Bench/Program.cs and docs/performance.md)");
    return 0;
}
if (args.Length % 2 == 1)
{
    Console.Error.WriteLine($"error: {args[^1]} has no value; every option takes one (--help lists them)");
    return 2;
}
Arguments options;
try
{
    options = Arguments.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
{
    Console.Error.WriteLine($"error: {e.Message} (--help lists the options)");
    return 2;
}
if (options.Allreduce)
{
    try
    {
        return AllreduceBench.Run(options.StepMilliseconds);
    }
    catch (GpuCnn.Mpi.MpiUnavailableException e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 2;
    }
}
LaunchPlan plan;
using (var probe = ComputeDevice.Open(options.Device))
    plan = probe.Plan;
if (options.Gemm is { } gemm)
    plan = plan with { Gemm = gemm, SharedTile = gemm is GemmVariant.SharedTiled or GemmVariant.RegisterBlocked ? Math.Max(plan.SharedTile, 4) : plan.SharedTile };
if (options.Conv is { } conv) plan = plan with { Conv = conv };
if (options.GroupSize is { } groupSize) plan = plan with { GroupSize = groupSize };
if (options.VectorBits is { } vectorBits) plan = plan with { VectorBits = vectorBits };
if (options.Tile is { } tile) plan = plan with { Tile = tile };
if (options.StreamsAb)
{
    StreamingAb.Run(options.Device, plan, rounds: 15);
    return 0;
}
using var device = ComputeDevice.Open(options.Device, plan);
Console.WriteLine($"Device: {device.Info}; launch plan {device.Plan.Name}, GEMM {device.Plan.Gemm}, convolutions {device.Plan.Conv}, groups of {(device.Plan.GroupSize > 0 ? device.Plan.GroupSize : "ILGPU's choice")}" +
    (device.Plan.VectorBits > 0 ? $", {device.Plan.VectorBits}-bit vectors preferred" : "") + $"; {Environment.ProcessorCount} cores");
var ceiling = Ceilings.For(device, options.Seconds);
Console.WriteLine($"Ceiling: {ceiling.Gflops:F2} GFLOP/s, {ceiling.GBytesPerSecond:F2} GB/s ({ceiling.Source})");
Console.WriteLine($"FMA peak: {ceiling.FmaGflops:F2} GFLOP/s ({ceiling.FmaSource})" +
    (ceiling.Fma256Gflops is { } narrow ? $"; with Vector256, the widest PoCL's code uses on AVX-512 hosts unless asked for 512-bit vectors: {narrow:F2} GFLOP/s" : ""));
Console.WriteLine();

var results = new List<BenchResult>();
var failedChecks = new List<string>();
void Print(BenchResult r)
{
    results.Add(r);
    string fraction = r.PeakFraction is { } f ? $"{f,7:P0}" : "      -";
    string check = r.CheckError is { } e ? $"{e,9:E1}" : "        -";
    string effective = r.EffectiveGflops is { } g ? $"  {g:F1} GFLOP/s effective" : "";
    Console.WriteLine($"{r.Name,-38} {r.Shape,-34} {r.Milliseconds,9:F2} ms {r.Rate,9:F2} {r.Unit,-9} {fraction} {check}{effective}");
}
// "of peak": a compute pass's (or a training step's effective) GFLOP/s over the FMA peak, a memory pass's GB/s over the copy bandwidth.
Console.WriteLine($"{"pass",-38} {"shape",-34} {"time",12} {"rate",19} {"of peak",7} {"check",9}");
// End to end first: on the CPU accelerator it runs on the same cores as everything else.
var images = options.FashionMnist ? new GpuCnn.Data.FashionMnistStore(new GpuCnn.Data.DataOptions()).Load().Train : null;
foreach (var model in options.Models.Where(_ => options.Batches > 1))
    Print(TrainingThroughput.Measure(device, ceiling, model, options.BatchSize, options.Batches, options.Profile, images));
if (options.Layers)
{
    // Each pass is checked against the CPU accelerator before it is timed (its generic GEMM when the CPU plan is timed).
    using var reference = device.Plan.ThreadsOwnBlocks
        ? ComputeDevice.OpenCpu(new ILGPU.Runtime.CPU.CPUDevice(2, 1, 1), LaunchPlan.ForCpu(2) with { Name = "generic", Gemm = GemmVariant.Generic })
        : ComputeDevice.Open(DeviceKind.Cpu);
    Console.WriteLine($"(check: relative L2 error against {reference.Info.KindName} plan {reference.Plan.Name}, at most {PassCheck.Tolerance:E0}; a residual block's backward pass {PassCheck.CompositeTolerance:E0})");
    foreach (var model in options.Models)
    {
        // A failed check ends that model's passes, not the run: the other models are still checked and timed.
        try
        {
            foreach (var r in new LayerBenchmarks(device, reference, ceiling, options.Seconds, options.Layer).Run(model, options.BatchSize)) Print(r);
        }
        catch (InvalidOperationException e) when (e.Message.StartsWith("check failed", StringComparison.Ordinal))
        {
            Console.WriteLine(e.Message);
            failedChecks.Add(e.Message);
        }
    }
}

// The register tiles this run's implicit convolutions took, as measured on this device (now or before).
if (device.Kernels.TileChoices is { Count: > 0 } tiles)
    Console.WriteLine($"\nRegister tiles, as measured on this device ({GpuCnn.Devices.KernelTuner.FileFor(device.Info, device.Plan.VectorBits)}): " +
        string.Join("; ", tiles.Select(t => $"{t.Key}: {KernelLauncher.TileName(t.Value)}")));
if (options.Json is { } json)
{
    var report = new
    {
        machine = new { cores = Environment.ProcessorCount, os = Environment.OSVersion.ToString(), runtime = Environment.Version.ToString() },
        device = device.Info.ToString(),
        plan = device.Plan,
        ceiling,
        results,
        failedChecks,
        measuredUtc = DateTime.UtcNow,
    };
    GpuCnn.IO.AtomicFile.WriteText(json, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } }));
    Console.WriteLine($"\nwrote {json}");
}
if (failedChecks.Count > 0) Console.Error.WriteLine($"error: {failedChecks.Count} model(s) stopped at a pass whose check failed (above)");
return failedChecks.Count > 0 ? 1 : 0;

sealed record Arguments(DeviceKind Device, GemmVariant? Gemm, ConvVariant? Conv, string[] Models, double Seconds, int Batches, int BatchSize, string? Json, bool Profile = false, bool Layers = true, bool FashionMnist = false, int? GroupSize = null, string? Layer = null, bool Allreduce = false, int? Tile = null, int? VectorBits = null, bool StreamsAb = false)
{
    /// <summary>--step-ms seed=37.6,resnet=173.8: training step times for the allreduce efficiency estimate.</summary>
    public Dictionary<string, double> StepMilliseconds { get; init; } = [];

    public static Arguments Parse(string[] args)
    {
        var a = new Arguments(DeviceKind.Cpu, null, null, [.. ModelZoo.Names], 1.0, 20, 128, null);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string value = args[i + 1];
            try
            {
                a = args[i] switch
                {
                    "--device" => a with
                    {
                        Device = Enum.TryParse<DeviceKind>(value, ignoreCase: true, out var kind) ? kind
                        : throw new ArgumentException($"--device {value}: not a device (cpu, cuda, opencl, auto)")
                    },
                    "--gemm" => a with { Gemm = GemmNamed(value) ?? throw Unknown(args[i], value) },
                    "--conv" => a with { Conv = ConvNamed(value) ?? throw Unknown(args[i], value) },
                    "--variant" => GemmNamed(value) is { } gemm ? a with { Gemm = gemm }
                        : ConvNamed(value) is { } conv ? a with { Conv = conv }
                        : TileNamed(value) is { } rows ? a with { Tile = rows } : throw Unknown(args[i], value),
                    "--kernel" => a with { Layer = value },
                    "--allreduce" => a with { Allreduce = bool.Parse(value) },
                    "--streams-ab" => a with { StreamsAb = bool.Parse(value) },
                    "--step-ms" => a with { StepMilliseconds = value.Split(',').Select(p => p.Split('=')).ToDictionary(p => p[0], p => double.Parse(p[1])) },
                    "--models" => a with { Models = value.Split(',') },
                    "--seconds" => a with { Seconds = double.Parse(value) },
                    "--batches" => a with { Batches = int.Parse(value) },
                    "--batch-size" => a with { BatchSize = int.Parse(value) },
                    "--json" => a with { Json = value },
                    "--profile" => a with { Profile = bool.Parse(value) },
                    "--layers" => a with { Layers = bool.Parse(value) },
                    "--fashion-mnist" => a with { FashionMnist = bool.Parse(value) },
                    "--group-size" => a with { GroupSize = int.Parse(value) },
                    "--vector-bits" => value is "0" or "512" ? a with { VectorBits = int.Parse(value) }
                        : throw new ArgumentException($"--vector-bits {value}: the width is 512 or 0 (the OpenCL compiler's own choice)"),
                    "--layer" => a with { Layer = value },
                    _ => throw new ArgumentException($"unknown option {args[i]}"),
                };
            }
            catch (Exception e) when (e is FormatException or OverflowException or KeyNotFoundException or IndexOutOfRangeException)
            {
                throw new ArgumentException($"{args[i]} {value}: not a value it takes ({e.Message})");
            }
        }
        foreach (var m in a.Models) ModelZoo.Create(m);
        return a;
    }

    static GemmVariant? GemmNamed(string name) => name switch
    {
        "register" => GemmVariant.RegisterTiled,
        "blocked" => GemmVariant.RegisterBlocked,
        "shared" => GemmVariant.SharedTiled,
        "generic" => GemmVariant.Generic,
        _ => null,
    };

    /// <summary>tile4x16 ... tile6x32, winograd12x16, winograd6x32, winograd4x4-4x16-pairs: the implicit convolutions' tiles (KernelLauncher.AllTiles).</summary>
    static int? TileNamed(string name) => KernelLauncher.AllTiles.Where(t => KernelLauncher.TileName(t) == name).Select(t => (int?)t).FirstOrDefault();

    static ConvVariant? ConvNamed(string name) => Enum.TryParse<ConvVariant>(name, ignoreCase: true, out var v) ? v : null;

    static ArgumentException Unknown(string option, string value) =>
        new($"{option} {value}: not a variant (GEMM: register, blocked, shared, generic; convolution: auto, im2col, implicit, winograd; tiles: {string.Join(", ", KernelLauncher.AllTiles.Select(KernelLauncher.TileName))})");
}
