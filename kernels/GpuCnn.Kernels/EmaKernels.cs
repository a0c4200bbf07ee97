using ILGPU;

namespace GpuCnn.Kernels;

/// <summary>
/// The exponential moving average of the weights, over a flat buffer (the model's parameters, or
/// batch norm's moving statistics) so that each is one launch per step.
/// </summary>
public static class EmaKernels
{
    /// <summary>After an optimizer step: average = decay·average + (1 - decay)·live, element by element.</summary>
    public static void EmaUpdate(Index1D thread, ArrayView<float> average, ArrayView<float> live, float decay, WorkSplit split)
    {
        int end = split.End(thread);
        for (int i = split.Start(thread); i < end; i++)
            average[i] = decay * average[i] + (1f - decay) * live[i];
    }

    /// <summary>
    /// Exchanges two buffers' values, exactly: the model's buffer and the set it does not hold (the
    /// average while training, the live weights while evaluating), with no third buffer.
    /// </summary>
    public static void EmaSwap(Index1D thread, ArrayView<float> first, ArrayView<float> second, WorkSplit split)
    {
        int end = split.End(thread);
        for (int i = split.Start(thread); i < end; i++)
        {
            float kept = first[i];
            first[i] = second[i];
            second[i] = kept;
        }
    }
}
