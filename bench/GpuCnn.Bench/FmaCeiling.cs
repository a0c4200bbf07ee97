using System.Diagnostics;
using System.Runtime.Intrinsics;

namespace GpuCnn.Bench;

/// <summary>
/// The host's fused multiply-add peak, measured in C#: every core runs one thread of
/// independent vector FMA chains (Vector512 where the JIT accelerates it, else Vector256), with
/// enough accumulators that each FMA unit always has one whose previous result is ready
/// (latency 4-5 cycles × 2 units per core on recent x86 cores: 8-10 chains; 12 leaves margin and
/// still fits AVX2's 16 registers with the two constants). No memory is touched, so this is
/// what no kernel on this host can beat.
/// </summary>
public static class FmaCeiling
{
    public const int Accumulators = 12;

    /// <summary>
    /// GFLOP/s on all cores (one FMA = 2 FLOP per lane), and which vector width was used: the
    /// widest the JIT accelerates, or with <paramref name="widest"/> false Vector256 (the width of
    /// PoCL's code on AVX-512 hosts, docs/performance.md).
    /// </summary>
    public static (double Gflops, string Width) Measure(double seconds, bool widest = true)
    {
        int threads = Environment.ProcessorCount;
        bool wide = widest && Vector512.IsHardwareAccelerated;
        string width = $"{(wide ? "Vector512" : "Vector256")} × {Accumulators} accumulators, " +
                       $"{threads} thread{(threads == 1 ? "" : "s")}{(System.Runtime.Intrinsics.X86.Fma.IsSupported ? "" : ", FMA not in hardware")}";
        Func<long, float> chains = wide
            ? Chains<Lanes512, Vector512<float>>
            : Chains<Lanes256, Vector256<float>>;
        long floatsPerIteration = (wide ? Vector512<float>.Count : Vector256<float>.Count) * Accumulators;
        // A run takes about a tenth of the time: sized on one thread, which also brings the loop to the JIT's full tier.
        long iterations = 1 << 14;
        double took;
        while ((took = Seconds(() => chains(iterations))) < seconds / 20) iterations *= 2;
        iterations = Math.Max(1 << 14, (long)(iterations * (seconds / 10) / took));
        // Every accumulator settles at the fixed point 0.5 (exact in binary), so the lanes' sum is known.
        float expected = 0.5f * floatsPerIteration;
        double best = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds || best == 0)
            best = Math.Max(best, 2.0 * floatsPerIteration * iterations * threads / OnAllCores(chains, iterations, threads, expected) / 1e9);
        return (best, width);
    }

    static double Seconds(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>Seconds for every thread to finish its chains, started together.</summary>
    static double OnAllCores(Func<long, float> chains, long iterations, int threads, float expected)
    {
        using var start = new Barrier(threads + 1);
        var sums = new float[threads];
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            sums[t] = chains(iterations);
        })).ToArray();
        foreach (var worker in workers) worker.Start();
        start.SignalAndWait();
        double elapsed = Seconds(() => { foreach (var worker in workers) worker.Join(); });
        // The sums are used, so the JIT cannot drop the chains.
        if (sums.Any(s => s != expected)) throw new InvalidOperationException($"FMA ceiling chains summed to {sums[0]}, not {expected}");
        return elapsed;
    }

    /// <summary>acc = acc·0.5 + 0.25 on each of the independent accumulators, iterations times; their lanes' sum.</summary>
    static float Chains<TLanes, TVector>(long iterations) where TLanes : struct, ILanes<TVector> where TVector : struct
    {
        TVector half = TLanes.Broadcast(0.5f), quarter = TLanes.Broadcast(0.25f);
        TVector a0 = TLanes.Broadcast(0.01f), a1 = TLanes.Broadcast(0.02f), a2 = TLanes.Broadcast(0.03f), a3 = TLanes.Broadcast(0.04f),
            a4 = TLanes.Broadcast(0.05f), a5 = TLanes.Broadcast(0.06f), a6 = TLanes.Broadcast(0.07f), a7 = TLanes.Broadcast(0.08f),
            a8 = TLanes.Broadcast(0.09f), a9 = TLanes.Broadcast(0.10f), a10 = TLanes.Broadcast(0.11f), a11 = TLanes.Broadcast(0.12f);
        for (long i = 0; i < iterations; i++)
        {
            a0 = TLanes.MultiplyAdd(a0, half, quarter); a1 = TLanes.MultiplyAdd(a1, half, quarter);
            a2 = TLanes.MultiplyAdd(a2, half, quarter); a3 = TLanes.MultiplyAdd(a3, half, quarter);
            a4 = TLanes.MultiplyAdd(a4, half, quarter); a5 = TLanes.MultiplyAdd(a5, half, quarter);
            a6 = TLanes.MultiplyAdd(a6, half, quarter); a7 = TLanes.MultiplyAdd(a7, half, quarter);
            a8 = TLanes.MultiplyAdd(a8, half, quarter); a9 = TLanes.MultiplyAdd(a9, half, quarter);
            a10 = TLanes.MultiplyAdd(a10, half, quarter); a11 = TLanes.MultiplyAdd(a11, half, quarter);
        }
        return TLanes.Sum(a0) + TLanes.Sum(a1) + TLanes.Sum(a2) + TLanes.Sum(a3) + TLanes.Sum(a4) + TLanes.Sum(a5) +
               TLanes.Sum(a6) + TLanes.Sum(a7) + TLanes.Sum(a8) + TLanes.Sum(a9) + TLanes.Sum(a10) + TLanes.Sum(a11);
    }

    /// <summary>One vector width's operations, as static members so the JIT specialises and inlines each width's loop.</summary>
    interface ILanes<TVector> where TVector : struct
    {
        static abstract TVector Broadcast(float value);
        static abstract TVector MultiplyAdd(TVector a, TVector b, TVector c);
        static abstract float Sum(TVector v);
    }

    readonly struct Lanes256 : ILanes<Vector256<float>>
    {
        public static Vector256<float> Broadcast(float value) => Vector256.Create(value);
        public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);
        public static float Sum(Vector256<float> v) => Vector256.Sum(v);
    }

    readonly struct Lanes512 : ILanes<Vector512<float>>
    {
        public static Vector512<float> Broadcast(float value) => Vector512.Create(value);
        public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
        public static float Sum(Vector512<float> v) => Vector512.Sum(v);
    }
}
