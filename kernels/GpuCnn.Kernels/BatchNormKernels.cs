using ILGPU;
using ILGPU.Algorithms;

namespace GpuCnn.Kernels;

/// <summary>
/// Shape of a batch normalization over the last axis: rows are N·H·W for a convolution's output
/// (per-channel statistics) or N for a dense layer's (per-feature). Channels must be a multiple
/// of 8: channels are handled in Float8 groups.
/// </summary>
public struct BatchNormShape
{
    public int Rows, Channels;
    /// <summary>Keras's defaults: moving = momentum·moving + (1-momentum)·batch, momentum 0.99, ε 1e-3.</summary>
    public float Momentum, Epsilon;
    /// <summary>1: a ReLU follows inside the same passes, y = max(0, BN(x)), and the backward passes take dy only where y &gt; 0.</summary>
    public int Relu;

    public readonly int Groups => Channels / 8;
}

/// <summary>
/// Batch normalization, y = γ·(x - μ)/√(σ² + ε) + β. Training uses the batch's mean and (biased)
/// variance and updates the moving averages; inference uses the moving averages. The layer
/// keeps statistics = [μ (C floats) | 1/√(σ²+ε) (C floats)] between the forward and backward pass.
/// </summary>
public static class BatchNormKernels
{
    /// <summary>
    /// The reductions behind the batch statistics, in chunks of rowChunk rows: sums[k·C + c] =
    /// Σ over the rows of chunk k of x (centered = 0), or of (x - μ)² with μ = statistics[c]
    /// (centered = 1: the variance's second pass, free of cancellation). With one chunk the sums
    /// are final; otherwise the launcher adds the chunks' sums with GemmKernels.ColumnSum. Items
    /// are (chunk, group of 8 channels) pairs; each sum runs in row order.
    /// </summary>
    public static void BatchNormPartialSums(Index1D thread, ArrayView<float> input, ArrayView<float> statistics,
        ArrayView<float> sums, BatchNormShape s, int rowChunk, int centered, WorkSplit split)
    {
        var x8 = input.Cast<Float8>();
        var statistics8 = statistics.Cast<Float8>();
        var sums8 = sums.Cast<Float8>();
        int end = split.End(thread);
        for (int item = split.Start(thread); item < end; item++)
        {
            int chunk = item / s.Groups, g = item % s.Groups;
            int first = chunk * rowChunk, last = XMath.Min(s.Rows, first + rowChunk);
            Float8 sum = default;
            if (centered == 0)
            {
                for (int r = first; r < last; r++) sum.Add(x8[r * s.Groups + g]);
            }
            else
            {
                Float8 mean = statistics8[g];
                for (int r = first; r < last; r++)
                {
                    Float8 d = x8[r * s.Groups + g] - mean;
                    sum.Add(d * d);
                }
            }
            sums8[item] = sum;
        }
    }

    /// <summary>μ = Σx / rows, in place over statistics' first C floats (which hold Σx). Items are groups of 8 channels.</summary>
    public static void BatchNormMean(Index1D thread, ArrayView<float> statistics, BatchNormShape s, WorkSplit split)
    {
        var statistics8 = statistics.Cast<Float8>();
        float inverseRows = 1f / s.Rows;
        int end = split.End(thread);
        for (int g = split.Start(thread); g < end; g++) statistics8[g] = inverseRows * statistics8[g];
    }

    /// <summary>
    /// From Σ(x - μ)² (statistics' second C floats): the biased variance σ², 1/√(σ²+ε) in its
    /// place, and the moving averages. Items are groups of 8 channels.
    /// </summary>
    public static void BatchNormVariance(Index1D thread, ArrayView<float> statistics, ArrayView<float> movingMean,
        ArrayView<float> movingVariance, BatchNormShape s, WorkSplit split)
    {
        var statistics8 = statistics.Cast<Float8>();
        var movingMean8 = movingMean.Cast<Float8>();
        var movingVariance8 = movingVariance.Cast<Float8>();
        float inverseRows = 1f / s.Rows;
        int end = split.End(thread);
        for (int g = split.Start(thread); g < end; g++)
        {
            Float8 mean = statistics8[g];
            Float8 variance = inverseRows * statistics8[s.Groups + g];
            statistics8[s.Groups + g] = Float8.InverseSqrt(variance, s.Epsilon);
            movingMean8[g] = s.Momentum * movingMean8[g] + (1f - s.Momentum) * mean;
            movingVariance8[g] = s.Momentum * movingVariance8[g] + (1f - s.Momentum) * variance;
        }
    }

    /// <summary>Statistics from the moving averages, for inference. Items are groups of 8 channels.</summary>
    public static void BatchNormMovingStatistics(Index1D thread, ArrayView<float> statistics,
        ArrayView<float> movingMean, ArrayView<float> movingVariance, BatchNormShape s, WorkSplit split)
    {
        var statistics8 = statistics.Cast<Float8>();
        int end = split.End(thread);
        for (int g = split.Start(thread); g < end; g++)
        {
            statistics8[g] = movingMean.Cast<Float8>()[g];
            statistics8[s.Groups + g] = Float8.InverseSqrt(movingVariance.Cast<Float8>()[g], s.Epsilon);
        }
    }

    /// <summary>
    /// y = γ·(x - μ)·(1/√(σ²+ε)) + β. Items are groups of 8 elements, item i of channel group
    /// i mod Groups: consecutive work-items read consecutive memory, which PoCL vectorises across
    /// work-items as it does the residual add (a row per item, looping over its groups, ran at a
    /// third of the add's rate).
    /// </summary>
    public static void BatchNormForward(Index1D thread, ArrayView<float> input, ArrayView<float> output,
        ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> statistics, BatchNormShape s, WorkSplit split)
    {
        var x8 = input.Cast<Float8>();
        var y8 = output.Cast<Float8>();
        var gamma8 = gamma.Cast<Float8>();
        var beta8 = beta.Cast<Float8>();
        var statistics8 = statistics.Cast<Float8>();
        int start = split.Start(thread), end = split.End(thread);
        int g = start % s.Groups;
        for (int i = start; i < end; i++)
        {
            Float8 y = gamma8[g] * ((x8[i] - statistics8[g]) * statistics8[s.Groups + g]) + beta8[g];
            if (s.Relu != 0) y.ClampAtZero();
            y8[i] = y;
            if (++g == s.Groups) g = 0;
        }
    }

    /// <summary>
    /// dγ = Σ dy·x̂ and dβ = Σ dy per channel, with x̂ recomputed from x, over the rows of one
    /// chunk of rowChunk rows into gammaSums[k·C + c] and betaSums[k·C + c]. With one chunk they
    /// are final; otherwise the launcher adds the chunks. Items are (chunk, group of 8 channels).
    /// With s.Relu, dy is taken where the output y is positive (read only then).
    /// </summary>
    public static void BatchNormBackwardReduce(Index1D thread, ArrayView<float> input, ArrayView<float> output,
        ArrayView<float> outputGrad, ArrayView<float> statistics, ArrayView<float> gammaSums, ArrayView<float> betaSums,
        BatchNormShape s, int rowChunk, WorkSplit split)
    {
        var x8 = input.Cast<Float8>();
        var y8 = output.Cast<Float8>();
        var dy8 = outputGrad.Cast<Float8>();
        var statistics8 = statistics.Cast<Float8>();
        var gammaSums8 = gammaSums.Cast<Float8>();
        var betaSums8 = betaSums.Cast<Float8>();
        int end = split.End(thread);
        for (int item = split.Start(thread); item < end; item++)
        {
            int chunk = item / s.Groups, g = item % s.Groups;
            int first = chunk * rowChunk, last = XMath.Min(s.Rows, first + rowChunk);
            Float8 mean = statistics8[g], inverseStd = statistics8[s.Groups + g];
            Float8 dGamma = default, dBeta = default;
            for (int r = first; r < last; r++)
            {
                int i = r * s.Groups + g;
                Float8 dy = s.Relu != 0 ? Lanes.WherePositive(y8[i], dy8[i]) : dy8[i];
                dGamma.Add(dy * ((x8[i] - mean) * inverseStd));
                dBeta.Add(dy);
            }
            gammaSums8[item] = dGamma;
            betaSums8[item] = dBeta;
        }
    }

    /// <summary>
    /// dx = γ·(1/√(σ²+ε))/m · (m·dy - dβ - x̂·dγ), the gradient through the batch statistics as
    /// well as the normalization (m = rows). Items are groups of 8 elements, as in BatchNormForward.
    /// With s.Relu, dy where y &gt; 0, as in BatchNormBackwardReduce.
    /// </summary>
    public static void BatchNormBackward(Index1D thread, ArrayView<float> input, ArrayView<float> output, ArrayView<float> outputGrad,
        ArrayView<float> inputGrad, ArrayView<float> gamma, ArrayView<float> statistics, ArrayView<float> gammaGrad,
        ArrayView<float> betaGrad, BatchNormShape s, WorkSplit split)
    {
        var x8 = input.Cast<Float8>();
        var y8 = output.Cast<Float8>();
        var dy8 = outputGrad.Cast<Float8>();
        var dx8 = inputGrad.Cast<Float8>();
        var statistics8 = statistics.Cast<Float8>();
        float rows = s.Rows, inverseRows = 1f / s.Rows;
        int start = split.Start(thread), end = split.End(thread);
        int g = start % s.Groups;
        for (int i = start; i < end; i++)
        {
            Float8 inverseStd = statistics8[s.Groups + g];
            Float8 normalized = (x8[i] - statistics8[g]) * inverseStd;
            Float8 scale = inverseRows * (gamma.Cast<Float8>()[g] * inverseStd);
            Float8 dy = s.Relu != 0 ? Lanes.WherePositive(y8[i], dy8[i]) : dy8[i];
            dx8[i] = scale * (rows * dy - betaGrad.Cast<Float8>()[g] - normalized * gammaGrad.Cast<Float8>()[g]);
            if (++g == s.Groups) g = 0;
        }
    }
}
