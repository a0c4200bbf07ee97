using GpuCnn.Devices;
using GpuCnn.Tensors;

namespace GpuCnn.Layers;

/// <summary>
/// The backward half of an activation fused into a GEMM's epilogue (Conv2D, Dense): dZ = dY
/// where the stored output is positive. Owns the dZ buffer, so the incoming dY is never
/// overwritten (a residual block hands the same dY to two branches).
/// </summary>
public sealed class FusedActivation(Activation activation)
{
    Tensor? gradient;

    public Activation Activation => activation;
    public bool Relu => activation == Activation.Relu;

    /// <summary>Allocates dZ (through the owning layer) when there is an activation to undo.</summary>
    public void Allocate(Func<Tensor> allocate)
    {
        if (activation != Activation.None) gradient = allocate();
    }

    /// <summary>dZ; dY itself when there is no activation or the next layer already masked it (takenOver).</summary>
    public Tensor Gradient(KernelLauncher kernels, Tensor output, Tensor outputGrad, int batch, bool takenOver)
    {
        if (gradient is null || takenOver) return outputGrad;
        var masked = gradient.FirstRows(batch);
        kernels.ReluBackward(output.FirstRows(batch).View, outputGrad.View, masked.View);
        return masked;
    }
}
