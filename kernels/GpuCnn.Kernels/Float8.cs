namespace GpuCnn.Kernels;

/// <summary>
/// Eight consecutive floats handled as one value. Loading a row segment through
/// <c>view.Cast&lt;Float8&gt;()</c> is one view access instead of eight: on ILGPU's CPU
/// accelerator every view access pays address arithmetic, so this alone more than doubles
/// GEMM throughput there (see README, Performance). On a GPU it becomes eight plain loads.
/// </summary>
public struct Float8
{
    public float X0, X1, X2, X3, X4, X5, X6, X7;

    /// <summary>this += s * b, element-wise.</summary>
    public void MultiplyAdd(float s, in Float8 b)
    {
        X0 += s * b.X0; X1 += s * b.X1; X2 += s * b.X2; X3 += s * b.X3;
        X4 += s * b.X4; X5 += s * b.X5; X6 += s * b.X6; X7 += s * b.X7;
    }

    public void Add(in Float8 b)
    {
        X0 += b.X0; X1 += b.X1; X2 += b.X2; X3 += b.X3;
        X4 += b.X4; X5 += b.X5; X6 += b.X6; X7 += b.X7;
    }

    public void ClampAtZero()
    {
        X0 = X0 > 0f ? X0 : 0f; X1 = X1 > 0f ? X1 : 0f; X2 = X2 > 0f ? X2 : 0f; X3 = X3 > 0f ? X3 : 0f;
        X4 = X4 > 0f ? X4 : 0f; X5 = X5 > 0f ? X5 : 0f; X6 = X6 > 0f ? X6 : 0f; X7 = X7 > 0f ? X7 : 0f;
    }
}
