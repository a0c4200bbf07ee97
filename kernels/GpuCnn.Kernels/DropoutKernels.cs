using ILGPU;
using ILGPU.Algorithms;

namespace GpuCnn.Kernels;

/// <summary>
/// Inverted dropout: kept units are scaled by 1/(1-rate) during training so inference is the
/// identity. The mask is CounterRng(seed, offset + index), recomputed in the backward pass, never
/// stored. The offset is the element number of the tensor's first element within the whole
/// mini-batch: a rank of a data-parallel run that holds rows r.. of it passes r·(elements per
/// row), so N ranks draw the masks one process would (0 otherwise).
/// </summary>
public static class DropoutKernels
{
    public static void DropoutForward(Index1D thread, ArrayView<float> input, ArrayView<float> output,
        float rate, uint seed, int offset, WorkSplit split) => ApplyMask(thread, input, output, rate, seed, offset, split);

    /// <summary>The same mask and scale as the forward pass with the same seed: dX = mask·dY/(1-rate).</summary>
    public static void DropoutBackward(Index1D thread, ArrayView<float> outputGrad, ArrayView<float> inputGrad,
        float rate, uint seed, int offset, WorkSplit split) => ApplyMask(thread, outputGrad, inputGrad, rate, seed, offset, split);

    /// <summary>
    /// Keeps element i when CounterRng.Uniform(seed, i) ≥ rate, i.e. when the hash's top 24 bits
    /// k satisfy k ≥ ⌈rate·2²⁴⌉ (exact: both sides are k/2²⁴ and rate scaled by a power of two).
    /// The choice is a bit mask, not a branch: PoCL vectorises only branch-free work-items, and
    /// the `?:` this replaces ran at 1.7 GB/s there. Dropped elements are +0, as before.
    /// </summary>
    static void ApplyMask(Index1D thread, ArrayView<float> source, ArrayView<float> target, float rate, uint seed, int offset, WorkSplit split)
    {
        int end = split.End(thread);
        for (int i = split.Start(thread); i < end; i++) MaskElement(i, source, target, rate, seed, offset);
    }

    /// <summary>
    /// Either pass, one element per work-item with no loop around it (GPU-shaped plans: PoCL
    /// vectorises only work-items whose control flow is the same; the forward and backward passes
    /// apply the same mask).
    /// </summary>
    public static void DropoutMaskPerItem(Index1D i, ArrayView<float> source, ArrayView<float> target, float rate, uint seed, int offset) =>
        MaskElement(i, source, target, rate, seed, offset);

    static void MaskElement(int i, ArrayView<float> source, ArrayView<float> target, float rate, uint seed, int offset)
    {
        float scale = 1f / (1f - rate);
        int threshold = (int)XMath.Ceiling(rate * 16777216f);
        int k = (int)(CounterRng.Hash(seed, (uint)(offset + i)) >> 8);
        uint keep = (uint)~((k - threshold) >> 31); // all ones when k >= threshold, else 0
        target[i] = Interop.IntAsFloat(Interop.FloatAsInt(source[i] * scale) & keep);
    }
}
