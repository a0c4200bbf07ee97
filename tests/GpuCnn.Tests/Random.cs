namespace GpuCnn.Tests;

/// <summary>Seeded random test data.</summary>
public static class TestData
{
    public static float[] Uniform(int length, int seed, float low = -1f, float high = 1f)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => low + (high - low) * (float)random.NextDouble()).ToArray();
    }

    public static double[] ToDouble(this float[] values) => values.Select(v => (double)v).ToArray();

    /// <summary>Largest |a - b| relative to max(1, |b|).</summary>
    public static double MaxRelativeError(IReadOnlyList<float> actual, IReadOnlyList<double> expected)
    {
        Assert.Equal(expected.Count, actual.Count);
        double worst = 0;
        for (int i = 0; i < actual.Count; i++)
            worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]) / Math.Max(1.0, Math.Abs(expected[i])));
        return worst;
    }

    public static void AssertClose(IReadOnlyList<float> actual, IReadOnlyList<double> expected, double tolerance = 1e-4)
    {
        double error = MaxRelativeError(actual, expected);
        Assert.True(error <= tolerance, $"max relative error {error:E2} exceeds {tolerance:E0}");
    }
}
