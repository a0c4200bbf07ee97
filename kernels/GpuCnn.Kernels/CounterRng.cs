namespace GpuCnn.Kernels;

/// <summary>
/// A counter-based random generator: the value for (seed, counter) is a pure hash, so a kernel
/// gets the same numbers whatever the thread count or timing, and a backward pass can recompute
/// a forward pass's dropout mask instead of storing it.
/// </summary>
public static class CounterRng
{
    /// <summary>Mixes two words into one well-distributed 32-bit value (a PCG-style output hash).</summary>
    public static uint Hash(uint seed, uint counter)
    {
        uint state = counter * 747796405u + 2891336453u + seed * 0x9E3779B9u;
        uint word = ((state >> (int)((state >> 28) + 4u)) ^ state) * 277803737u;
        word = (word >> 22) ^ word;
        // A second round decorrelates neighbouring counters under the same seed.
        word ^= seed;
        word *= 0x85EBCA6Bu;
        word ^= word >> 13;
        word *= 0xC2B2AE35u;
        word ^= word >> 16;
        return word;
    }

    /// <summary>Uniform in [0, 1) with 24 bits of resolution.</summary>
    public static float Uniform(uint seed, uint counter) => (Hash(seed, counter) >> 8) * (1.0f / 16777216.0f);
}
