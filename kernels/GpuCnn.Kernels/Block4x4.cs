namespace GpuCnn.Kernels;

/// <summary>
/// A 4×4 block of accumulators held in registers: the outputs one thread of
/// <see cref="GemmKernels.GemmRegisterBlocked"/> owns. Fields, not an array, so that ILGPU keeps
/// them in registers (a local array would go to local memory).
/// </summary>
public struct Block4x4
{
    float c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33;

    /// <summary>this += a·bᵀ: the outer product of a column of 4 A values and a row of 4 B values.</summary>
    public void MultiplyAdd(float a0, float a1, float a2, float a3, float b0, float b1, float b2, float b3)
    {
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
    }

    /// <summary>Element (i, j), i and j in 0..3.</summary>
    public readonly float Get(int i, int j) => i switch
    {
        0 => j == 0 ? c00 : j == 1 ? c01 : j == 2 ? c02 : c03,
        1 => j == 0 ? c10 : j == 1 ? c11 : j == 2 ? c12 : c13,
        2 => j == 0 ? c20 : j == 1 ? c21 : j == 2 ? c22 : c23,
        _ => j == 0 ? c30 : j == 1 ? c31 : j == 2 ? c32 : c33,
    };
}
