namespace GpuCnn.Kernels;

/// <summary>
/// The input gradient of a stride-2 convolution (a K×K kernel, K 1 or 3, padding (K-1)/2) as four
/// stride-1 convolutions of dZ, one per parity class (ey, ex) = (iy mod 2, ix mod 2) of the input
/// pixels: class e along an axis sees the taps k ≡ e + p (mod 2), tap r of them (r = 0, 1) being
/// k = e + p - 2r and reading output row iy/2 + r. Each class runs as a forward convolution of
/// dZ (B, OH, OW, filters) with its own kernel (Taps(ey) × Taps(ex) × filters × Cin) padded by
/// <see cref="Padding"/>, so that output pixel (iy/2 + pad, ix/2 + pad) of class (ey, ex) is dX at
/// (iy, ix). The column gradient dZ·Wᵀ is never formed. Classes in order (0,0), (0,1), (1,0), (1,1);
/// their kernels and outputs lie one after another.
/// </summary>
public readonly struct ParityClasses
{
    readonly ConvGeometry g;
    readonly int filters;

    public ParityClasses(ConvGeometry g, int filters)
    {
        this.g = g;
        this.filters = filters;
    }

    /// <summary>Whether a convolution's input gradient splits so: stride 2, a square kernel of 1 or 3, padding (K-1)/2.</summary>
    public static bool Fits(ConvGeometry g) =>
        g.Stride == 2 && g.KernelHeight == g.KernelWidth && (g.KernelHeight == 1 || g.KernelHeight == 3) && g.Padding == (g.KernelHeight - 1) / 2;

    /// <summary>Taps along an axis that class e sees: k in [0, K) with k ≡ e + p (mod 2); 0, 1 or 2.</summary>
    public int Taps(int e) => (g.KernelHeight - (e + g.Padding) % 2 + 1) / 2;

    /// <summary>The class of tap k along an axis, and its place r among that class's taps.</summary>
    public int ClassOf(int k, out int r)
    {
        int e = (k + g.Padding) % 2;
        r = (e + g.Padding - k) / 2;
        return e;
    }

    /// <summary>Whether class (ey, ex) sees any tap (with a 1×1 kernel, only (0, 0) does; its other pixels' gradient is 0).</summary>
    public bool Sees(int ey, int ex) => Taps(ey) * Taps(ex) > 0;

    /// <summary>Padding of class (ey, ex)'s convolution: 1 where it reads two rows or columns, the last of them past dZ's edge; else 0.</summary>
    public int Padding(int ey, int ex) => Taps(ey) > 1 || Taps(ex) > 1 ? 1 : 0;

    /// <summary>Class (ey, ex)'s convolution over dZ: its output is (B, OH + 2pad - Taps(ey) + 1, OW + 2pad - Taps(ex) + 1, Cin).</summary>
    public ConvGeometry Class(int ey, int ex) =>
        new(g.Batch, g.OutHeight, g.OutWidth, filters, Taps(ey), Taps(ex), 1, Padding(ey, ex));

    /// <summary>The classes' kernels, one after another: KH·KW·Cin·filters floats, every tap in one class.</summary>
    public int KernelFloats => KernelOffset(4);

    /// <summary>The classes' outputs, one after another, in floats.</summary>
    public long OutputFloats => OutputOffset(4);

    /// <summary>Where class k = 2ey + ex's kernel starts in the classes' kernels.</summary>
    public int KernelOffset(int k)
    {
        int offset = 0;
        for (int c = 0; c < k; c++) offset += Taps(c / 2) * Taps(c % 2) * filters * g.InChannels;
        return offset;
    }

    /// <summary>Where class k = 2ey + ex's output starts in the classes' outputs.</summary>
    public long OutputOffset(int k)
    {
        long offset = 0;
        for (int c = 0; c < k; c++)
            if (Sees(c / 2, c % 2)) offset += (long)Class(c / 2, c % 2).ColumnRows * g.InChannels;
        return offset;
    }
}
