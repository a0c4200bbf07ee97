namespace GpuCnn.Layers;

/// <summary>An activation a convolution or dense layer applies to its output (fused into its GEMM).</summary>
public enum Activation
{
    None,
    Relu,
}
