using GpuCnn.Devices;
using GpuCnn.Layers;
using GpuCnn.Models;
using GpuCnn.Tensors;

namespace GpuCnn.Tests.Layers;

/// <summary>
/// Checks one layer, or a chain of layers as a model runs them (with the fusions Sequential makes
/// between neighbours), against its double-precision reference f(x, parameters): the forward
/// output directly, and every gradient of the backward pass against central finite differences of
/// L = Σ r·f(x, θ) for a random upstream gradient r.
/// </summary>
public static class LayerCheck
{
    public delegate double[] ReferenceForward(double[] x, IReadOnlyList<double[]> parameters);

    public static void Run(ComputeDevice device, Layer layer, int[] inputShape, int batch, ReferenceForward reference,
        double forwardTolerance = 1e-4, double gradientTolerance = 2e-3, int samplesPerTensor = 12) =>
        Run(device, [layer], inputShape, batch, reference, forwardTolerance, gradientTolerance, samplesPerTensor);

    /// <summary>The chain's trainable parameters, in layer order, are the reference's.</summary>
    public static void Run(ComputeDevice device, IReadOnlyList<Layer> layers, int[] inputShape, int batch, ReferenceForward reference,
        double forwardTolerance = 1e-4, double gradientTolerance = 2e-3, int samplesPerTensor = 12)
    {
        using var model = new Sequential("check", inputShape, layers).Build(device, batch, seed: 11, inputGradient: true);
        var x = TestData.Uniform(batch * inputShape.Aggregate(1, (a, b) => a * b), 21);
        using var input = Tensor.Zeros(device, [batch, .. inputShape]);
        input.CopyFrom(x);
        var parameters = layers.SelectMany(l => l.Parameters).Where(p => p.Trainable).ToList();
        var theta = parameters.Select(p => p.Value.ToArray().ToDouble()).ToList();

        var y = layers.Aggregate(input, (t, layer) => layer.Forward(t, new PassContext(true, 5)));
        var expected = reference(x.ToDouble(), theta);
        TestData.AssertClose(y.ToArray(), expected, forwardTolerance);

        var r = TestData.Uniform(y.Length, 22);
        using var upstream = Tensor.Zeros(device, y.Shape);
        upstream.CopyFrom(r);
        var inputGrad = layers.Reverse().Aggregate(upstream, (g, layer) => layer.Backward(g)!).ToArray();

        double Loss(double[] xs, IReadOnlyList<double[]> ps)
        {
            var f = reference(xs, ps);
            double sum = 0;
            for (int i = 0; i < f.Length; i++) sum += r[i] * f[i];
            return sum;
        }

        // Small enough that no ReLU or max-pool kink falls inside ±ε; the reference is in double precision.
        const double Epsilon = 1e-6;
        var random = new Random(3);
        var xs = x.ToDouble();
        foreach (int i in Sample(xs.Length, samplesPerTensor, random))
        {
            double saved = xs[i];
            xs[i] = saved + Epsilon;
            double plus = Loss(xs, theta);
            xs[i] = saved - Epsilon;
            double minus = Loss(xs, theta);
            xs[i] = saved;
            AssertGradient($"{string.Join(" → ", layers.Select(l => l.Kind))} dX[{i}]", inputGrad[i], (plus - minus) / (2 * Epsilon), gradientTolerance);
        }
        for (int t = 0; t < parameters.Count; t++)
        {
            var analytic = parameters[t].Gradient.ToArray();
            foreach (int i in Sample(theta[t].Length, samplesPerTensor, random))
            {
                double saved = theta[t][i];
                theta[t][i] = saved + Epsilon;
                double plus = Loss(xs, theta);
                theta[t][i] = saved - Epsilon;
                double minus = Loss(xs, theta);
                theta[t][i] = saved;
                AssertGradient($"{parameters[t].Name}[{i}]", analytic[i], (plus - minus) / (2 * Epsilon), gradientTolerance);
            }
        }
    }

    static IEnumerable<int> Sample(int length, int count, Random random) =>
        length <= count ? Enumerable.Range(0, length) : Enumerable.Range(0, count).Select(_ => random.Next(length)).Distinct();

    static void AssertGradient(string what, double analytic, double numeric, double tolerance)
    {
        double error = Math.Abs(analytic - numeric) / Math.Max(1.0, Math.Abs(numeric));
        Assert.True(error <= tolerance, $"{what}: backward pass gives {analytic:G6}, finite differences {numeric:G6}");
    }
}
