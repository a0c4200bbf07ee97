using System.Diagnostics;
using GpuCnn.Devices;
using GpuCnn.Layers;
using GpuCnn.Models;
using GpuCnn.Tensors;

namespace GpuCnn.Bench;

/// <summary>
/// Times every kernel pass of a model on its real shapes and buffers: each GEMM layer's forward,
/// weight-gradient and input-gradient passes (im2col/col2im included for convolutions) in
/// GFLOP/s, and the memory-bound layers in GB/s, each against the device's ceiling.
/// </summary>
public sealed class LayerBenchmarks(ComputeDevice device, Ceiling ceiling, double seconds)
{
    public IEnumerable<BenchResult> Run(string modelName, int batch)
    {
        using var model = ModelZoo.Create(modelName).Build(device, batch, 1);
        using var input = Tensor.Zeros(device, [batch, .. model.InputShape]);
        input.CopyFrom(RandomValues(input.Length));
        var pass = new Layers.PassContext(true, 7);
        var inputs = new List<Tensor>();
        var x = input;
        foreach (var layer in model.Layers)
        {
            inputs.Add(x);
            x = layer.Forward(x, pass);
        }
        for (int i = 0; i < model.Layers.Count; i++)
        {
            var layer = model.Layers[i];
            var layerInput = inputs[i];
            var y = layer.Forward(layerInput, pass);
            using var outputGrad = Tensor.Zeros(device, y.Shape);
            outputGrad.CopyFrom(RandomValues(outputGrad.Length));
            string shape = $"{ShapeOf(layerInput)} -> {ShapeOf(y)}";
            string name = $"{modelName} {layer.Name}";
            if (layer is IGemmLayer gemm)
            {
                double gflop = gemm.GemmFlops / 1e9;
                yield return Compute($"{name} forward", shape, Time(() => layer.Forward(layerInput, pass)), gflop);
                var grad = gemm.ActivationGradient(outputGrad);
                yield return Compute($"{name} weight grad", shape, Time(() => gemm.BackwardWeights(grad)), gflop);
                if (layer.NeedsInputGradient)
                    yield return Compute($"{name} input grad", shape, Time(() => gemm.BackwardInput(grad)), gflop);
            }
            else if (layer is ResidualBlock)
            {
                // A composite: its convolutions are inside; report its total time per pass.
                double forward = Time(() => layer.Forward(layerInput, pass));
                yield return new BenchResult($"{name} forward", shape, forward, "-", 0, null);
                yield return new BenchResult($"{name} backward", shape, Time(() => layer.Backward(outputGrad)), "-", 0, null);
            }
            else if (layer is MaxPool2D or Dropout or BatchNormalization or ReLU or GlobalAvgPool2D)
            {
                double bytes = 4.0 * (layerInput.Length + y.Length);
                yield return Memory($"{name} forward", shape, Time(() => layer.Forward(layerInput, pass)), bytes);
                if (layer.NeedsInputGradient)
                    yield return Memory($"{name} backward", shape, Time(() => layer.Backward(outputGrad)), bytes);
            }
        }
    }

    BenchResult Compute(string name, string shape, double ms, double gflop) =>
        new(name, shape, ms, "GFLOP/s", gflop / (ms / 1e3), gflop / (ms / 1e3) / ceiling.Gflops);

    BenchResult Memory(string name, string shape, double ms, double bytes) =>
        new(name, shape, ms, "GB/s", bytes / 1e9 / (ms / 1e3), bytes / 1e9 / (ms / 1e3) / ceiling.GBytesPerSecond);

    /// <summary>Milliseconds per call: one warm-up (JIT), then repeated for at least the given time.</summary>
    double Time(Action action)
    {
        action();
        device.Synchronize();
        int runs = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds || runs < 3)
        {
            action();
            runs++;
        }
        device.Synchronize();
        return clock.Elapsed.TotalMilliseconds / runs;
    }

    static string ShapeOf(Tensor t) => "(" + string.Join("x", t.Shape) + ")";

    static float[] RandomValues(int length)
    {
        var random = new Random(length);
        return Enumerable.Range(0, length).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
    }
}
