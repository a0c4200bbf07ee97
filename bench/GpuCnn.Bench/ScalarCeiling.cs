using System.Diagnostics;

namespace GpuCnn.Bench;

/// <summary>
/// The CPU ceiling the ILGPU kernels are measured against: a careful plain C# GEMM (no ILGPU, no
/// SIMD intrinsics) with 4×8 register blocks over raw pointers, one block row per task on all
/// cores. It is what the same machine does for the same work without ILGPU in the way.
/// </summary>
public static unsafe class ScalarCeiling
{
    public static double MeasureGflops(int m, int n, int k, double seconds)
    {
        var a = RandomArray(m * k, 1);
        var b = RandomArray(k * n, 2);
        var c = new float[m * n];
        Gemm(a, b, c, m, n, k);
        Check(a, b, c, m, n, k);
        int runs = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds || runs < 2)
        {
            Gemm(a, b, c, m, n, k);
            runs++;
        }
        return 2.0 * m * n * k * runs / clock.Elapsed.TotalSeconds / 1e9;
    }

    static float[] RandomArray(int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
    }

    static void Check(float[] a, float[] b, float[] c, int m, int n, int k)
    {
        for (int probe = 0; probe < 16; probe++)
        {
            int i = probe * 37 % m, j = probe * 53 % n;
            double sum = 0;
            for (int p = 0; p < k; p++) sum += a[i * k + p] * b[p * n + j];
            if (Math.Abs(sum - c[i * n + j]) > 1e-2) throw new InvalidOperationException("scalar ceiling GEMM is wrong");
        }
    }

    /// <summary>c = a·b, row-major; m a multiple of 4, n of 8.</summary>
    public static void Gemm(float[] a, float[] b, float[] c, int m, int n, int k)
    {
        Parallel.For(0, m / 4, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, block =>
        {
            fixed (float* pa = a, pb = b, pc = c)
            {
                int i = block * 4;
                for (int j = 0; j < n; j += 8)
                {
                    float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c04 = 0, c05 = 0, c06 = 0, c07 = 0;
                    float c10 = 0, c11 = 0, c12 = 0, c13 = 0, c14 = 0, c15 = 0, c16 = 0, c17 = 0;
                    float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c24 = 0, c25 = 0, c26 = 0, c27 = 0;
                    float c30 = 0, c31 = 0, c32 = 0, c33 = 0, c34 = 0, c35 = 0, c36 = 0, c37 = 0;
                    float* a0 = pa + i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
                    float* bp = pb + j;
                    for (int p = 0; p < k; p++, bp += n)
                    {
                        float x0 = a0[p], x1 = a1[p], x2 = a2[p], x3 = a3[p];
                        float b0 = bp[0], b1 = bp[1], b2 = bp[2], b3 = bp[3], b4 = bp[4], b5 = bp[5], b6 = bp[6], b7 = bp[7];
                        c00 += x0 * b0; c01 += x0 * b1; c02 += x0 * b2; c03 += x0 * b3; c04 += x0 * b4; c05 += x0 * b5; c06 += x0 * b6; c07 += x0 * b7;
                        c10 += x1 * b0; c11 += x1 * b1; c12 += x1 * b2; c13 += x1 * b3; c14 += x1 * b4; c15 += x1 * b5; c16 += x1 * b6; c17 += x1 * b7;
                        c20 += x2 * b0; c21 += x2 * b1; c22 += x2 * b2; c23 += x2 * b3; c24 += x2 * b4; c25 += x2 * b5; c26 += x2 * b6; c27 += x2 * b7;
                        c30 += x3 * b0; c31 += x3 * b1; c32 += x3 * b2; c33 += x3 * b3; c34 += x3 * b4; c35 += x3 * b5; c36 += x3 * b6; c37 += x3 * b7;
                    }
                    float* r = pc + i * n + j;
                    r[0] = c00; r[1] = c01; r[2] = c02; r[3] = c03; r[4] = c04; r[5] = c05; r[6] = c06; r[7] = c07; r += n;
                    r[0] = c10; r[1] = c11; r[2] = c12; r[3] = c13; r[4] = c14; r[5] = c15; r[6] = c16; r[7] = c17; r += n;
                    r[0] = c20; r[1] = c21; r[2] = c22; r[3] = c23; r[4] = c24; r[5] = c25; r[6] = c26; r[7] = c27; r += n;
                    r[0] = c30; r[1] = c31; r[2] = c32; r[3] = c33; r[4] = c34; r[5] = c35; r[6] = c36; r[7] = c37;
                }
            }
        });
    }
}
