using GpuCnn.Tensors;

namespace GpuCnn.Layers;

/// <summary>
/// A layer whose work is three GEMM passes (forward, weight gradient, input gradient), exposed
/// separately so benchmarks can time each one on the exact buffers training uses.
/// </summary>
public interface IGemmLayer
{
    Tensor ActivationGradient(Tensor outputGrad);
    void BackwardWeights(Tensor grad);
    Tensor BackwardInput(Tensor grad);
    long GemmFlops { get; }
}
