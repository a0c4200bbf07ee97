namespace GpuCnn.Randomness;

/// <summary>
/// The project's own seeded generator for the host's random choices: initial weights, epoch
/// shuffles and the npm data interleave. It is Knuth's subtractive generator (The Art of Computer
/// Programming, vol. 2, 3.2.2; "ran3" in Numerical Recipes), seeded, sampled and shuffled exactly
/// as .NET's seeded <see cref="System.Random"/> has done since .NET Framework 1.0. .NET does not
/// promise to keep that sequence, so it is written out here: a seed means the same weights and
/// order on every .NET, and runs made before the switch reproduce to the bit. A test pins its
/// first values for seed 42; another checks it still agrees with System.Random on this runtime.
/// </summary>
public sealed class SeededRandom
{
    const int Modulus = int.MaxValue;
    const int SeedBase = 161_803_398; // Knuth's MSEED (digits of the golden ratio)
    readonly int[] state = new int[56];
    int next, nextPlus21 = 21;

    public SeededRandom(int seed)
    {
        // State[55] from the seed, the rest spread with a lag of 21, then warmed by four passes.
        int value = SeedBase - (seed == int.MinValue ? int.MaxValue : Math.Abs(seed));
        state[55] = value;
        int previous = 1, index = 0;
        for (int i = 1; i < 55; i++)
        {
            if ((index += 21) >= 55) index -= 55;
            state[index] = previous;
            previous = value - previous;
            if (previous < 0) previous += Modulus;
            value = state[index];
        }
        for (int pass = 1; pass < 5; pass++)
            for (int i = 1; i < 56; i++)
            {
                int lagged = i + 30;
                if (lagged >= 55) lagged -= 55;
                state[i] -= state[1 + lagged];
                if (state[i] < 0) state[i] += Modulus;
            }
    }

    /// <summary>The next value in [0, int.MaxValue): the difference of two entries 21 apart in the table.</summary>
    int NextSample()
    {
        if (++next >= 56) next = 1;
        if (++nextPlus21 >= 56) nextPlus21 = 1;
        int result = state[next] - state[nextPlus21];
        if (result == Modulus) result--;
        if (result < 0) result += Modulus;
        state[next] = result;
        return result;
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => NextSample() * (1.0 / Modulus);

    /// <summary>Uniform integer in [min, max), for max - min up to int.MaxValue.</summary>
    public int Next(int min, int max) => (int)(NextDouble() * ((long)max - min)) + min;

    /// <summary>Fisher-Yates from the front: position i swaps with a uniform position in [i, n).</summary>
    public void Shuffle<T>(T[] values)
    {
        for (int i = 0; i < values.Length - 1; i++)
        {
            int j = Next(i, values.Length);
            if (j != i) (values[i], values[j]) = (values[j], values[i]);
        }
    }
}
