using System.Diagnostics;
using GpuCnn.Devices;
using GpuCnn.Layers;
using GpuCnn.Models;
using GpuCnn.Tensors;

namespace GpuCnn.Bench;

/// <summary>
/// Times every kernel pass of a model on its real shapes and buffers: each GEMM layer's forward,
/// weight-gradient and input-gradient passes (im2col/col2im included for convolutions) in
/// GFLOP/s against the scalar GEMM ceiling and the FMA peak, and the memory-bound layers in GB/s
/// against the copy bandwidth. Each pass is
/// first checked against the same pass on the reference device (<see cref="PassCheck"/>).
/// </summary>
/// <param name="only">With `--layer`: only the layers whose "model layer" name contains it (the workbench: one layer's
/// passes at the model's shapes, checked then timed, under the plan and variants the options chose).</param>
public sealed class LayerBenchmarks(ComputeDevice device, ComputeDevice reference, Ceiling ceiling, double seconds, string? only = null)
{
    public IEnumerable<BenchResult> Run(string modelName, int batch)
    {
        using var model = ModelZoo.Create(modelName).Build(device, batch, 1);
        using var referenceModel = ModelZoo.Create(modelName).Build(reference, batch, 1);
        using var input = Tensor.Zeros(device, [batch, .. model.InputShape]);
        using var referenceInput = Tensor.Zeros(reference, [batch, .. model.InputShape]);
        var values = RandomValues(input.Length);
        input.CopyFrom(values);
        referenceInput.CopyFrom(values);
        var pass = new PassContext(true, 7);
        var inputs = new List<(Tensor Measured, Tensor Reference)>();
        Tensor x = input, rx = referenceInput;
        foreach (var (layer, referenceLayer) in model.Layers.Zip(referenceModel.Layers))
        {
            inputs.Add((x, rx));
            x = layer.Forward(x, pass);
            rx = referenceLayer.Forward(rx, pass);
        }
        for (int i = 0; i < model.Layers.Count; i++)
        {
            var (layer, referenceLayer) = (model.Layers[i], referenceModel.Layers[i]);
            if (only is not null && !$"{modelName} {layer.Name}".Contains(only, StringComparison.Ordinal)) continue;
            var (layerInput, referenceLayerInput) = inputs[i];
            // The same input on both devices: each device's own chain drifts apart through the
            // layers before (ReLU flips), which a deep model's later blocks would inherit.
            layerInput.CopyFrom(referenceLayerInput.ToArray());
            var y = layer.Forward(layerInput, pass);
            var ry = referenceLayer.Forward(referenceLayerInput, pass);
            using var outputGrad = Tensor.Zeros(device, y.Shape);
            using var referenceOutputGrad = Tensor.Zeros(reference, y.Shape);
            var gradValues = RandomValues(outputGrad.Length);
            outputGrad.CopyFrom(gradValues);
            referenceOutputGrad.CopyFrom(gradValues);
            string shape = $"{ShapeOf(layerInput)} -> {ShapeOf(y)}";
            string name = $"{modelName} {layer.Name}" + (layer is Conv2D conv ? $" [{conv.Variant.ToString().ToLowerInvariant()}]" : "");
            double forwardError = PassCheck.Compare($"{name} forward", [("output", y, ry)]);
            if (layer is IGemmLayer gemm && referenceLayer is IGemmLayer referenceGemm)
            {
                double gflop = gemm.GemmFlops / 1e9;
                yield return Compute($"{name} forward", shape, Time(() => layer.Forward(layerInput, pass)), gflop, forwardError);
                var grad = gemm.ActivationGradient(outputGrad);
                var referenceGrad = referenceGemm.ActivationGradient(referenceOutputGrad);
                gemm.BackwardWeights(grad);
                referenceGemm.BackwardWeights(referenceGrad);
                double error = PassCheck.Compare($"{name} weight grad", PassCheck.Gradients(layer, referenceLayer));
                yield return Compute($"{name} weight grad", shape, Time(() => gemm.BackwardWeights(grad)), gflop, error);
                if (layer.NeedsInputGradient)
                {
                    error = PassCheck.Compare($"{name} input grad", [("input gradient", gemm.BackwardInput(grad), referenceGemm.BackwardInput(referenceGrad))]);
                    yield return Compute($"{name} input grad", shape, Time(() => gemm.BackwardInput(grad)), gflop, error);
                }
            }
            else if (layer is ResidualBlock or MaxPool2D or Dropout or BatchNormalization or ReLU or GlobalAvgPool2D)
            {
                // A residual block is a composite (its convolutions are inside): its total time per pass.
                bool memoryBound = layer is not ResidualBlock;
                double bytes = 4.0 * (layerInput.Length + y.Length);
                yield return Pass($"{name} forward", shape, Time(() => layer.Forward(layerInput, pass)), bytes, memoryBound, forwardError);
                if (layer is MaxPool2D { PoolsConvolution: { } pooledConv } pool)
                {
                    // The model's own forward pass: the convolution before and this pooling in one (Conv2dForwardMaxPool).
                    var (convInput, referenceConvInput) = inputs[i - 1];
                    convInput.CopyFrom(referenceConvInput.ToArray());
                    string pair = $"{modelName} {pooledConv.Name} forward max pool", pairShape = $"{ShapeOf(convInput)} -> {ShapeOf(y)}";
                    double error = PassCheck.Compare(pair, [("output", pool.ForwardMaxPool(convInput), ry)]);
                    // Rated as the convolution's multiply-adds, which it is made of; timed against the two passes it replaces.
                    Tensor TwoPasses() => pool.Forward(pooledConv.Forward(convInput, pass), pass);
                    double apartError = PassCheck.Compare($"{pair}, the two passes", [("output", TwoPasses(), ry)]);
                    var (together, apart) = TimeAlternating(() => pool.ForwardMaxPool(convInput), () => TwoPasses());
                    yield return Compute(pair, pairShape, together, pooledConv.GemmFlops / 1e9, error);
                    yield return Compute($"{pair}, the two passes", pairShape, apart, pooledConv.GemmFlops / 1e9, apartError);
                    if (i - 1 == 0)
                    {
                        // The model's backward pass below the first layer's pooling: the convolution's weight gradient straight from
                        // this layer's (MaxPool2D.BackwardWeightsMaxPool), against the reference's pooling backward, then weight gradient.
                        var referenceConv = (IGemmLayer)referenceModel.Layers[i - 1];
                        referenceConv.BackwardWeights(referenceConv.ActivationGradient(referenceLayer.Backward(referenceOutputGrad)!));
                        string backwardPair = $"{modelName} {pooledConv.Name} weight grad max pool";
                        void ThreePasses() => pooledConv.BackwardWeights(pooledConv.ActivationGradient(layer.Backward(outputGrad)!));
                        ThreePasses();
                        apartError = PassCheck.Compare($"{backwardPair}, the three passes", PassCheck.Gradients(pooledConv, referenceModel.Layers[i - 1]));
                        pool.BackwardWeightsMaxPool(outputGrad);
                        error = PassCheck.Compare(backwardPair, PassCheck.Gradients(pooledConv, referenceModel.Layers[i - 1]));
                        (together, apart) = TimeAlternating(() => pool.BackwardWeightsMaxPool(outputGrad), ThreePasses);
                        yield return Compute(backwardPair, pairShape, together, pooledConv.GemmFlops / 1e9, error);
                        yield return Compute($"{backwardPair}, the three passes", pairShape, apart, pooledConv.GemmFlops / 1e9, apartError);
                    }
                }
                if (layer.NeedsInputGradient)
                {
                    var measured = layer.Backward(outputGrad)!;
                    double error = PassCheck.Compare($"{name} backward",
                        [("input gradient", measured, referenceLayer.Backward(referenceOutputGrad)!), .. PassCheck.Gradients(layer, referenceLayer)],
                        layer is ResidualBlock ? PassCheck.CompositeTolerance : PassCheck.Tolerance);
                    yield return Pass($"{name} backward", shape, Time(() => layer.Backward(outputGrad)), bytes, memoryBound, error);
                }
            }
        }
    }

    BenchResult Compute(string name, string shape, double ms, double gflop, double checkError)
    {
        double rate = gflop / (ms / 1e3);
        return new(name, shape, ms, "GFLOP/s", rate, rate / ceiling.Gflops, checkError, PeakFraction: rate / ceiling.FmaGflops);
    }

    BenchResult Pass(string name, string shape, double ms, double bytes, bool memoryBound, double checkError)
    {
        if (!memoryBound) return new(name, shape, ms, "-", 0, null, checkError);
        double rate = bytes / 1e9 / (ms / 1e3), share = rate / ceiling.GBytesPerSecond;
        return new(name, shape, ms, "GB/s", rate, share, checkError, PeakFraction: share);
    }

    /// <summary>
    /// Milliseconds per call: one warm-up (JIT), then repeated for at least the given time. The
    /// device is waited for after every call: launches are asynchronous on OpenCL and CUDA, and a
    /// loop that only enqueued them would queue far more work than the time allows.
    /// </summary>
    double Time(Action action)
    {
        action();
        device.Synchronize();
        int runs = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds || runs < 3)
        {
            action();
            device.Synchronize();
            runs++;
        }
        return clock.Elapsed.TotalMilliseconds / runs;
    }

    /// <summary>
    /// Milliseconds per call of a and of b, timed in alternating blocks of five calls for twice the
    /// given time, each pair of blocks in the other order from the last: the median block of each,
    /// so that a shared host's slow spells fall on both.
    /// </summary>
    (double A, double B) TimeAlternating(Action a, Action b)
    {
        Block(a);
        Block(b);
        var timesA = new List<double>();
        var timesB = new List<double>();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < 2 * seconds || timesA.Count < 5)
        {
            bool aFirst = timesA.Count % 2 == 0;
            if (aFirst) timesA.Add(Block(a));
            timesB.Add(Block(b));
            if (!aFirst) timesA.Add(Block(a));
        }
        return (timesA.Order().ElementAt(timesA.Count / 2), timesB.Order().ElementAt(timesB.Count / 2));

        double Block(Action action)
        {
            var block = Stopwatch.StartNew();
            for (int call = 0; call < 5; call++)
            {
                action();
                device.Synchronize();
            }
            return block.Elapsed.TotalMilliseconds / 5;
        }
    }

    static string ShapeOf(Tensor t) => "(" + string.Join("x", t.Shape) + ")";

    /// <summary>Values in [-0.5, 0.5), the same for the same length.</summary>
    internal static float[] RandomValues(int length)
    {
        var random = new Random(length);
        return Enumerable.Range(0, length).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
    }
}
