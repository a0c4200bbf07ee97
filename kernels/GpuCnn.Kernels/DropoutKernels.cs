using ILGPU;

namespace GpuCnn.Kernels;

/// <summary>
/// Inverted dropout: kept units are scaled by 1/(1-rate) during training so inference is the
/// identity. The mask is CounterRng(seed, index), recomputed in the backward pass, never stored.
/// </summary>
public static class DropoutKernels
{
    public static void DropoutForward(Index1D thread, ArrayView<float> input, ArrayView<float> output,
        float rate, uint seed, WorkSplit split) => ApplyMask(thread, input, output, rate, seed, split);

    /// <summary>The same mask and scale as the forward pass with the same seed: dX = mask·dY/(1-rate).</summary>
    public static void DropoutBackward(Index1D thread, ArrayView<float> outputGrad, ArrayView<float> inputGrad,
        float rate, uint seed, WorkSplit split) => ApplyMask(thread, outputGrad, inputGrad, rate, seed, split);

    static void ApplyMask(Index1D thread, ArrayView<float> source, ArrayView<float> target, float rate, uint seed, WorkSplit split)
    {
        int end = split.End(thread);
        float scale = 1f / (1f - rate);
        for (int i = split.Start(thread); i < end; i++)
            target[i] = CounterRng.Uniform(seed, (uint)i) >= rate ? source[i] * scale : 0f;
    }
}
