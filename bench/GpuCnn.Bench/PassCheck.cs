using GpuCnn.Layers;
using GpuCnn.Tensors;

namespace GpuCnn.Bench;

/// <summary>
/// Checks a pass before it is timed, as llm.c's dev/cuda kernels do: the same layer of the same
/// model (same seed, same input) on a reference device runs the same pass, and the results must
/// agree to a relative L2 error of 1e-3. (Not the largest element: plans sum in other orders, so
/// a pre-activation within rounding of 0 can land on the other side of a ReLU and that element's
/// gradient differ by its whole value; the resnet's first block showed one such element.) The
/// reference is the CPU accelerator's own plan, or its generic GEMM when the CPU plan is timed.
/// A residual block's backward pass is held to <see cref="CompositeTolerance"/>: its inner ReLU
/// flips such elements, and its 3×3 convolution spreads each flip over 144 input-gradient
/// elements (ResNetLayerTests measured 2.2e-3 at training size; PoCL gave up to 2.9e-3 on
/// resnet20's blocks, 7.7e-4 on resnet's), as the layer test holds it to 1e-2.
/// </summary>
public static class PassCheck
{
    public const double Tolerance = 1e-3, CompositeTolerance = 1e-2;

    /// <summary>The largest relative L2 error ‖measured - reference‖ / ‖reference‖ over the results.</summary>
    public static double Compare(string pass, IEnumerable<(string What, Tensor Measured, Tensor Reference)> results, double tolerance = Tolerance)
    {
        double worst = 0;
        foreach (var (what, measured, reference) in results)
        {
            float[] m = measured.ToArray(), r = reference.ToArray();
            double difference = m.Zip(r, (a, b) => ((double)a - b) * ((double)a - b)).Sum();
            double norm = r.Sum(v => (double)v * v);
            double error = norm > 0 ? Math.Sqrt(difference / norm) : Math.Sqrt(difference);
            if (!(error <= tolerance))
                throw new InvalidOperationException(
                    $"check failed: {pass}: {what} differs from the reference device's by {error:E2} (tolerance {tolerance:E0})");
            worst = Math.Max(worst, error);
        }
        return worst;
    }

    /// <summary>The gradients of a layer's parameters on both devices.</summary>
    public static IEnumerable<(string, Tensor, Tensor)> Gradients(Layer measured, Layer reference) =>
        measured.Parameters.Zip(reference.Parameters).Where(p => p.First.Trainable)
            .Select(p => (p.First.Name + " gradient", p.First.Gradient, p.Second.Gradient));
}
