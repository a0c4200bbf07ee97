using ILGPU;
using ILGPU.Algorithms;

namespace GpuCnn.Kernels;

/// <summary>
/// Eight consecutive floats handled as one value. Loading a row segment through
/// <c>view.Cast&lt;Float8&gt;()</c> is one view access instead of eight: on ILGPU's CPU
/// accelerator every view access pays address arithmetic, so this alone more than doubles
/// GEMM throughput there (see docs/performance.md). On a GPU it becomes eight plain loads.
/// </summary>
public struct Float8
{
    public float X0, X1, X2, X3, X4, X5, X6, X7;

    /// <summary>this += s * b, element-wise (FusedMath.MultiplyAdd: one instruction per lane on OpenCL).</summary>
    public void MultiplyAdd(float s, in Float8 b)
    {
        X0 = FusedMath.MultiplyAdd(s, b.X0, X0); X1 = FusedMath.MultiplyAdd(s, b.X1, X1);
        X2 = FusedMath.MultiplyAdd(s, b.X2, X2); X3 = FusedMath.MultiplyAdd(s, b.X3, X3);
        X4 = FusedMath.MultiplyAdd(s, b.X4, X4); X5 = FusedMath.MultiplyAdd(s, b.X5, X5);
        X6 = FusedMath.MultiplyAdd(s, b.X6, X6); X7 = FusedMath.MultiplyAdd(s, b.X7, X7);
    }

    public void Add(in Float8 b)
    {
        X0 += b.X0; X1 += b.X1; X2 += b.X2; X3 += b.X3;
        X4 += b.X4; X5 += b.X5; X6 += b.X6; X7 += b.X7;
    }

    public static Float8 operator +(in Float8 a, in Float8 b) => new()
    {
        X0 = a.X0 + b.X0, X1 = a.X1 + b.X1, X2 = a.X2 + b.X2, X3 = a.X3 + b.X3,
        X4 = a.X4 + b.X4, X5 = a.X5 + b.X5, X6 = a.X6 + b.X6, X7 = a.X7 + b.X7,
    };

    public static Float8 operator -(in Float8 a, in Float8 b) => new()
    {
        X0 = a.X0 - b.X0, X1 = a.X1 - b.X1, X2 = a.X2 - b.X2, X3 = a.X3 - b.X3,
        X4 = a.X4 - b.X4, X5 = a.X5 - b.X5, X6 = a.X6 - b.X6, X7 = a.X7 - b.X7,
    };

    public static Float8 operator *(in Float8 a, in Float8 b) => new()
    {
        X0 = a.X0 * b.X0, X1 = a.X1 * b.X1, X2 = a.X2 * b.X2, X3 = a.X3 * b.X3,
        X4 = a.X4 * b.X4, X5 = a.X5 * b.X5, X6 = a.X6 * b.X6, X7 = a.X7 * b.X7,
    };

    public static Float8 operator *(float s, in Float8 a) => new()
    {
        X0 = s * a.X0, X1 = s * a.X1, X2 = s * a.X2, X3 = s * a.X3,
        X4 = s * a.X4, X5 = s * a.X5, X6 = s * a.X6, X7 = s * a.X7,
    };

    public static Float8 Broadcast(float s) => new() { X0 = s, X1 = s, X2 = s, X3 = s, X4 = s, X5 = s, X6 = s, X7 = s };

    /// <summary>1/√(v + epsilon) lane by lane.</summary>
    public static Float8 InverseSqrt(in Float8 v, float epsilon) => new()
    {
        X0 = ILGPU.Algorithms.XMath.Rsqrt(v.X0 + epsilon), X1 = ILGPU.Algorithms.XMath.Rsqrt(v.X1 + epsilon),
        X2 = ILGPU.Algorithms.XMath.Rsqrt(v.X2 + epsilon), X3 = ILGPU.Algorithms.XMath.Rsqrt(v.X3 + epsilon),
        X4 = ILGPU.Algorithms.XMath.Rsqrt(v.X4 + epsilon), X5 = ILGPU.Algorithms.XMath.Rsqrt(v.X5 + epsilon),
        X6 = ILGPU.Algorithms.XMath.Rsqrt(v.X6 + epsilon), X7 = ILGPU.Algorithms.XMath.Rsqrt(v.X7 + epsilon),
    };

    /// <summary>max(x, 0) lane by lane, as a max rather than a comparison: the signs of activations are random, so a branch would mispredict half the time.</summary>
    public void ClampAtZero()
    {
        X0 = XMath.Max(X0, 0f); X1 = XMath.Max(X1, 0f); X2 = XMath.Max(X2, 0f); X3 = XMath.Max(X3, 0f);
        X4 = XMath.Max(X4, 0f); X5 = XMath.Max(X5, 0f); X6 = XMath.Max(X6, 0f); X7 = XMath.Max(X7, 0f);
    }
}

/// <summary>
/// Sixteen consecutive floats as two <see cref="Float8"/>s, loaded and stored through one view of
/// two elements: LLVM's SLP vectoriser then sees the halves as adjacent and can keep the pair in
/// one 512-bit register (docs/performance.md, "Every tile row in 512-bit registers").
/// </summary>
public struct Float8Pair
{
    public Float8 Left, Right;

    public static Float8Pair Load(ArrayView<Float8> view8, int at)
    {
        var pair = view8.SubView(at, 2);
        return new() { Left = pair[0], Right = pair[1] };
    }

    public readonly void Store(ArrayView<Float8> view8, int at)
    {
        var pair = view8.SubView(at, 2);
        pair[0] = Left;
        pair[1] = Right;
    }

    public static Float8Pair operator +(in Float8Pair a, in Float8Pair b) => new() { Left = a.Left + b.Left, Right = a.Right + b.Right };

    public static Float8Pair operator -(in Float8Pair a, in Float8Pair b) => new() { Left = a.Left - b.Left, Right = a.Right - b.Right };

    public static Float8Pair operator *(float s, in Float8Pair a) => new() { Left = s * a.Left, Right = s * a.Right };
}

/// <summary>Eight consecutive ints (pooling's argmax taps), loaded and stored as one value like <see cref="Float8"/>.</summary>
public struct Int8
{
    public int X0, X1, X2, X3, X4, X5, X6, X7;
}

/// <summary>Lane-wise operations on <see cref="Float8"/> that the kernels share.</summary>
public static class Lanes
{
    /// <summary>Where v beats best (strictly, so the first maximum wins as in Keras), take v and record tap.</summary>
    public static void MaxWithTap(ref Float8 best, ref Int8 taps, in Float8 v, int tap)
    {
        if (v.X0 > best.X0) { best.X0 = v.X0; taps.X0 = tap; }
        if (v.X1 > best.X1) { best.X1 = v.X1; taps.X1 = tap; }
        if (v.X2 > best.X2) { best.X2 = v.X2; taps.X2 = tap; }
        if (v.X3 > best.X3) { best.X3 = v.X3; taps.X3 = tap; }
        if (v.X4 > best.X4) { best.X4 = v.X4; taps.X4 = tap; }
        if (v.X5 > best.X5) { best.X5 = v.X5; taps.X5 = tap; }
        if (v.X6 > best.X6) { best.X6 = v.X6; taps.X6 = tap; }
        if (v.X7 > best.X7) { best.X7 = v.X7; taps.X7 = tap; }
    }

    /// <summary>Lane i is grad's where taps[i] == tap, else 0; without a comparison, as in WherePositive.</summary>
    public static Float8 WhereTap(in Int8 taps, int tap, in Float8 grad)
    {
        Float8 r;
        r.X0 = grad.X0 * Same(taps.X0, tap); r.X1 = grad.X1 * Same(taps.X1, tap);
        r.X2 = grad.X2 * Same(taps.X2, tap); r.X3 = grad.X3 * Same(taps.X3, tap);
        r.X4 = grad.X4 * Same(taps.X4, tap); r.X5 = grad.X5 * Same(taps.X5, tap);
        r.X6 = grad.X6 * Same(taps.X6, tap); r.X7 = grad.X7 * Same(taps.X7, tap);
        return r;
    }

    /// <summary>Lane i is grad's where taps[i] is tap or tap + 1 (tap even: a 2×2 window's row), else 0, as WhereTap.</summary>
    public static Float8 WhereTapPair(in Int8 taps, int tap, in Float8 grad)
    {
        int row = tap >> 1;
        Float8 r;
        r.X0 = grad.X0 * Same(taps.X0 >> 1, row); r.X1 = grad.X1 * Same(taps.X1 >> 1, row);
        r.X2 = grad.X2 * Same(taps.X2 >> 1, row); r.X3 = grad.X3 * Same(taps.X3 >> 1, row);
        r.X4 = grad.X4 * Same(taps.X4 >> 1, row); r.X5 = grad.X5 * Same(taps.X5 >> 1, row);
        r.X6 = grad.X6 * Same(taps.X6 >> 1, row); r.X7 = grad.X7 * Same(taps.X7 >> 1, row);
        return r;
    }

    /// <summary>1 where a == b, else 0, exactly (small ints convert to floats exactly).</summary>
    static float Same(int a, int b) => 1f - XMath.Min(XMath.Abs((float)(a - b)), 1f);

    /// <summary>
    /// Lane i is grad's where output[i] &gt; 0, else 0: ReLU's backward pass; with relu 0, grad
    /// unchanged (max pooling's backward pass uses both, <see cref="PoolGeometry.ReluBefore"/>).
    /// Written without a comparison: ILGPU turns each `?:` into a branch, which stops PoCL from
    /// vectorising. The mask min(max(output·float.MaxValue, 0), 1) is exactly 1 for every positive
    /// normal float and 0 for output ≤ 0 (a ReLU output is 0 or a value of normal size).
    /// </summary>
    public static Float8 WherePositive(in Float8 output, in Float8 grad, int relu = 1)
    {
        Float8 r;
        r.X0 = grad.X0 * Step(output.X0, relu); r.X1 = grad.X1 * Step(output.X1, relu);
        r.X2 = grad.X2 * Step(output.X2, relu); r.X3 = grad.X3 * Step(output.X3, relu);
        r.X4 = grad.X4 * Step(output.X4, relu); r.X5 = grad.X5 * Step(output.X5, relu);
        r.X6 = grad.X6 * Step(output.X6, relu); r.X7 = grad.X7 * Step(output.X7, relu);
        return r;
    }

    static float Step(float x) => XMath.Min(XMath.Max(x * float.MaxValue, 0f), 1f);

    /// <summary>Step(x) where relu is 1, 1 where it is 0; exactly Step(x) · 1 + 0 in the first case.</summary>
    public static float Step(float x, int relu) => Step(x) * relu + (1 - relu);
}
