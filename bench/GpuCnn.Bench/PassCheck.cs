using GpuCnn.Layers;
using GpuCnn.Tensors;

namespace GpuCnn.Bench;

/// <summary>
/// Checks a pass before it is timed, as llm.c's dev/cuda kernels do: the same layer of the same
/// model (same seed, same input) on a reference device runs the same pass, and the results
/// must agree to 1e-3 of their largest magnitude. The reference is the CPU accelerator's own
/// plan, or its generic GEMM when the CPU plan is the one being timed.
/// </summary>
public static class PassCheck
{
    public const double Tolerance = 1e-3;

    /// <summary>The largest difference, relative to the reference's largest magnitude (at least 1).</summary>
    public static double Compare(string pass, IEnumerable<(string What, Tensor Measured, Tensor Reference)> results)
    {
        double worst = 0;
        foreach (var (what, measured, reference) in results)
        {
            float[] m = measured.ToArray(), r = reference.ToArray();
            double scale = Math.Max(1.0, r.Max(v => Math.Abs((double)v)));
            double error = m.Zip(r, (a, b) => Math.Abs((double)a - b)).DefaultIfEmpty(0).Max() / scale;
            if (!(error <= Tolerance))
                throw new InvalidOperationException(
                    $"check failed: {pass}: {what} differs from the reference device's by {error:E2} (tolerance {Tolerance:E0})");
            worst = Math.Max(worst, error);
        }
        return worst;
    }

    /// <summary>The gradients of a layer's parameters on both devices.</summary>
    public static IEnumerable<(string, Tensor, Tensor)> Gradients(Layer measured, Layer reference) =>
        measured.Parameters.Zip(reference.Parameters).Where(p => p.First.Trainable)
            .Select(p => (p.First.Name + " gradient", p.First.Gradient, p.Second.Gradient));
}
