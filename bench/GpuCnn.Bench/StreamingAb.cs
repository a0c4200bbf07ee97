using System.Diagnostics;
using GpuCnn.Devices;
using GpuCnn.Kernels;
using GpuCnn.Tensors;

namespace GpuCnn.Bench;

/// <summary>
/// The passes a plan launches differently when its work-items take runs of items
/// (<see cref="LaunchPlan.Streams"/>): batch norm's sums four items side by side, the column sums,
/// dropout in runs. Each is timed on the device's plan and on the same plan without a stream
/// chunk (one item a work-item, in the plan's groups), alternating in one process, so both see
/// the same state of a noisy host. At resnet20's and the seed's shapes. `--streams-ab true`.
/// </summary>
public static class StreamingAb
{
    public static void Run(DeviceKind kind, LaunchPlan plan, int rounds)
    {
        if (!plan.Streams)
        {
            Console.WriteLine($"--streams-ab: plan {plan.Name} takes no runs of items (no stream chunk); nothing to compare");
            return;
        }
        using var runs = ComputeDevice.Open(kind, plan);
        using var items = ComputeDevice.Open(kind, plan with { StreamChunk = 0 });
        Console.WriteLine($"streaming passes against one item a work-item, {rounds} alternating rounds in one process; median ms a launch ({runs.Info})");
        Console.WriteLine($"{"pass",-44} {"runs of items",14} {"one item",10} {"ratio",7}");
        foreach (var (rows, channels) in new[] { (128 * 28 * 28, 16), (128 * 14 * 14, 32), (128 * 7 * 7, 64) })
        {
            var shape = new BatchNormShape { Rows = rows, Channels = channels, Momentum = 0.99f, Epsilon = 1e-3f };
            Compare($"batch norm statistics {rows}x{channels}", rounds, runs, items, d => BatchNormPass(d, shape, backward: false));
            Compare($"batch norm backward sums {rows}x{channels}", rounds, runs, items, d => BatchNormPass(d, shape, backward: true));
        }
        foreach (var (rows, cols) in new[] { (128 * 26 * 26, 32), (128 * 11 * 11, 64) })
            Compare($"column sum {rows}x{cols}", rounds, runs, items, d => ColumnSumPass(d, rows, cols));
        Compare("dropout forward 128x1600", rounds, runs, items, d => DropoutPass(d, 128 * 1600));
    }

    /// <summary>Times both devices' pass alternately: a warm-up, then rounds × (runs, one item), each 20 launches and a wait.</summary>
    static void Compare(string name, int rounds, ComputeDevice runs, ComputeDevice items, Func<ComputeDevice, Pass> setUp)
    {
        using var a = setUp(runs);
        using var b = setUp(items);
        a.Time(3);
        b.Time(3);
        var timesA = new List<double>();
        var timesB = new List<double>();
        for (int r = 0; r < rounds; r++)
        {
            timesA.Add(a.Time(20));
            timesB.Add(b.Time(20));
        }
        double medianA = Median(timesA), medianB = Median(timesB);
        Console.WriteLine($"{name,-44} {medianA,11:F3} ms {medianB,7:F3} ms {medianB / medianA,6:F2}x");
    }

    static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>One pass on one device, its tensors filled once.</summary>
    sealed class Pass(ComputeDevice device, Action launch, params Tensor[] tensors) : IDisposable
    {
        /// <summary>Milliseconds a launch, over count launches and one wait for the device.</summary>
        public double Time(int count)
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < count; i++) launch();
            device.Synchronize();
            return clock.Elapsed.TotalMilliseconds / count;
        }

        public void Dispose()
        {
            foreach (var t in tensors) t.Dispose();
        }
    }

    /// <summary>A tensor of the bench's random values in [-0.5, 0.5), plus offset.</summary>
    static Tensor Filled(ComputeDevice device, int length, float offset = 0f)
    {
        var t = Tensor.Zeros(device, length);
        t.CopyFrom(LayerBenchmarks.RandomValues(length).Select(v => v + offset).ToArray());
        return t;
    }

    static Pass BatchNormPass(ComputeDevice d, BatchNormShape s, bool backward)
    {
        int length = s.Rows * s.Channels;
        var x = Filled(d, length);
        var dy = Filled(d, length, 0.25f);
        var gamma = Filled(d, s.Channels, 1f);
        var beta = Filled(d, s.Channels);
        var statistics = Tensor.Zeros(d, 2 * s.Channels);
        var movingMean = Tensor.Zeros(d, s.Channels);
        var movingVariance = Tensor.Zeros(d, s.Channels);
        var dGamma = Tensor.Zeros(d, s.Channels);
        var dBeta = Tensor.Zeros(d, s.Channels);
        var k = d.Kernels;
        k.BatchNormStatistics(x.View, statistics.View, movingMean.View, movingVariance.View, s);
        Action launch = backward
            ? () => k.BatchNormBackward(x.View, dy.View, x.View, gamma.View, beta.View, statistics.View, dGamma.View, dBeta.View, s, false)
            : () => k.BatchNormStatistics(x.View, statistics.View, movingMean.View, movingVariance.View, s);
        return new Pass(d, launch, x, dy, gamma, beta, statistics, movingMean, movingVariance, dGamma, dBeta);
    }

    static Pass ColumnSumPass(ComputeDevice d, int rows, int cols)
    {
        var m = Filled(d, rows * cols);
        var sums = Tensor.Zeros(d, cols);
        return new Pass(d, () => d.Kernels.ColumnSum(m.View, sums.View, rows, cols), m, sums);
    }

    static Pass DropoutPass(ComputeDevice d, int length)
    {
        var x = Filled(d, length);
        var y = Tensor.Zeros(d, length);
        return new Pass(d, () => d.Kernels.DropoutForward(x.View, y.View, 0.25f, 1234), x, y);
    }
}
