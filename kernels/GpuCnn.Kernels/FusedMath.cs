using ILGPU.IR.Intrinsics;

namespace GpuCnn.Kernels;

/// <summary>
/// The multiply-add at the heart of every GEMM and convolution kernel. As C# it is a·b + c with
/// two roundings, which the CPU accelerator runs as written (.NET never fuses it), so CPU-plan
/// results stay bit-identical from release to release. ILGPU's OpenCL backend would emit the same
/// two operations, and PoCL compiles OpenCL without contraction unless unsafe math is on, which
/// halves the arithmetic rate of an FMA-capable CPU: GpuCnn's devices register
/// <see cref="MultiplyAdd"/> as OpenCL's <c>fma</c> (GpuCnn.Devices.FusedMultiplyAdd), one
/// rounding, one instruction. On CUDA, ptxas contracts the PTX multiply and add into an FMA itself.
/// </summary>
public static class FusedMath
{
    /// <summary>
    /// a·b + c: fused (one rounding) on OpenCL, two roundings on the CPU accelerator. Marked as an
    /// intrinsic, so every ILGPU backend needs a mapping for it: a context gets them all from
    /// GpuCnn.Devices.FusedMultiplyAdd.EnableFusedMultiplyAdd.
    /// </summary>
    [IntrinsicImplementation]
    public static float MultiplyAdd(float a, float b, float c) => a * b + c;
}
