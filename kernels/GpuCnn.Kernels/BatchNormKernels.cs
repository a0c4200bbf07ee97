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
    /// <summary>1: the forward pass adds a residual before the ReLU, y = max(0, BN(x) + r): a residual block's add, in the same pass.</summary>
    public int Residual;

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
    /// The batch statistics' first stage, in chunks of rowChunk rows: sums[k·C + c] = Σx over
    /// the rows of chunk k and squares[k·C + c] = Σ(x - m_k)², the squared deviations from the
    /// chunk's own mean m_k = Σx·(1/n_k). The second sweep reads rows the first has just brought
    /// into cache, so the batch is read from memory once, free of the cancellation of Σx². Items
    /// are (chunk, group of 8 channels) pairs; each sum runs in row order.
    /// </summary>
    public static void BatchNormChunkStatistics(Index1D thread, ArrayView<float> input, ArrayView<float> sums,
        ArrayView<float> squares, BatchNormShape s, int rowChunk, WorkSplit split)
    {
        var x8 = input.Cast<Float8>();
        var sums8 = sums.Cast<Float8>();
        var squares8 = squares.Cast<Float8>();
        int end = split.End(thread);
        for (int item = split.Start(thread); item < end; item++)
        {
            int chunk = item / s.Groups, g = item % s.Groups;
            int first = chunk * rowChunk, last = XMath.Min(s.Rows, first + rowChunk);
            Float8 sum = default, square = default;
            for (int r = first; r < last; r++) sum.Add(x8[r * s.Groups + g]);
            Float8 mean = (1f / (last - first)) * sum;
            for (int r = first; r < last; r++)
            {
                Float8 d = x8[r * s.Groups + g] - mean;
                square.Add(d * d);
            }
            sums8[item] = sum;
            squares8[item] = square;
        }
    }

    /// <summary>
    /// The batch statistics from the chunks' (BatchNormChunkStatistics): μ = Σ_k Σx_k / m and
    /// σ² = Σ_k [squares_k + n_k·(m_k - μ)²] / m (Chan, Golub and LeVeque's combination; m rows,
    /// n_k in chunk k), written as statistics = [μ | 1/√(σ²+ε)], and the moving averages
    /// updated with the biased σ². With one chunk the correction is exactly 0: a plain two-pass
    /// variance. sums and squares may be statistics' own halves then. Items are groups of 8 channels.
    /// </summary>
    public static void BatchNormStatistics(Index1D thread, ArrayView<float> sums, ArrayView<float> squares,
        ArrayView<float> statistics, ArrayView<float> movingMean, ArrayView<float> movingVariance, BatchNormShape s,
        int rowChunk, WorkSplit split)
    {
        var sums8 = sums.Cast<Float8>();
        var squares8 = squares.Cast<Float8>();
        var statistics8 = statistics.Cast<Float8>();
        var movingMean8 = movingMean.Cast<Float8>();
        var movingVariance8 = movingVariance.Cast<Float8>();
        float inverseRows = 1f / s.Rows;
        int chunks = (s.Rows + rowChunk - 1) / rowChunk;
        int end = split.End(thread);
        for (int g = split.Start(thread); g < end; g++)
        {
            Float8 total = default;
            for (int k = 0; k < chunks; k++) total.Add(sums8[k * s.Groups + g]);
            Float8 mean = inverseRows * total;
            Float8 deviations = default;
            for (int k = 0; k < chunks; k++)
            {
                int n = XMath.Min(s.Rows - k * rowChunk, rowChunk);
                Float8 offset = (1f / n) * sums8[k * s.Groups + g] - mean;
                deviations.Add(squares8[k * s.Groups + g] + n * (offset * offset));
            }
            Float8 variance = inverseRows * deviations;
            statistics8[g] = mean;
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
    /// y = γ·(x - μ)·(1/√(σ²+ε)) + β, plus residual with s.Residual (read only then), then the
    /// ReLU with s.Relu. Items are groups of 8 elements, item i of channel group i mod Groups, in
    /// runs of neighbouring items (a row per item, looping over its groups, ran at a third of the
    /// residual add's rate).
    /// </summary>
    public static void BatchNormForward(Index1D thread, ArrayView<float> input, ArrayView<float> residual, ArrayView<float> output,
        ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> statistics, BatchNormShape s, WorkSplit split)
    {
        var x8 = input.Cast<Float8>();
        var r8 = residual.Cast<Float8>();
        var y8 = output.Cast<Float8>();
        var gamma8 = gamma.Cast<Float8>();
        var beta8 = beta.Cast<Float8>();
        var statistics8 = statistics.Cast<Float8>();
        int start = split.Start(thread), end = split.End(thread);
        int g = start % s.Groups;
        for (int i = start; i < end; i++)
        {
            Float8 y = Affine(gamma8[g], (x8[i] - statistics8[g]) * statistics8[s.Groups + g], beta8[g]);
            if (s.Residual != 0) y = y + r8[i];
            if (s.Relu != 0) y.ClampAtZero();
            y8[i] = y;
            if (++g == s.Groups) g = 0;
        }
    }

    /// <summary>
    /// γ·x̂ + β, the output before the ReLU. The backward passes recompute it in the same order for
    /// the ReLU's mask (y &gt; 0 exactly where it is &gt; 0), so they need not read the output.
    /// </summary>
    static Float8 Affine(Float8 gamma, Float8 normalized, Float8 beta) => gamma * normalized + beta;

    /// <summary>
    /// dγ = Σ dy·x̂ and dβ = Σ dy per channel, with x̂ recomputed from x, over the rows of one
    /// chunk of rowChunk rows into gammaSums[k·C + c] and betaSums[k·C + c]. With one chunk they
    /// are final; otherwise BatchNormParameterGrads adds the chunks. Items are (chunk, group of 8 channels).
    /// With s.Relu, dy is taken where the output y = max(0, γ·x̂ + β) is positive (<see cref="Affine"/>).
    /// </summary>
    public static void BatchNormBackwardReduce(Index1D thread, ArrayView<float> input, ArrayView<float> outputGrad,
        ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> statistics, ArrayView<float> gammaSums, ArrayView<float> betaSums,
        BatchNormShape s, int rowChunk, WorkSplit split)
    {
        var x8 = input.Cast<Float8>();
        var dy8 = outputGrad.Cast<Float8>();
        var gamma8 = gamma.Cast<Float8>();
        var beta8 = beta.Cast<Float8>();
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
                Float8 normalized = (x8[i] - mean) * inverseStd;
                Float8 dy = s.Relu != 0 ? Lanes.WherePositive(Affine(gamma8[g], normalized, beta8[g]), dy8[i]) : dy8[i];
                dGamma.Add(dy * normalized);
                dBeta.Add(dy);
            }
            gammaSums8[item] = dGamma;
            betaSums8[item] = dBeta;
        }
    }

    /// <summary>
    /// dγ and dβ as the sums of BatchNormBackwardReduce's chunks, in chunk order, both in one
    /// launch. Items are groups of 8 channels.
    /// </summary>
    public static void BatchNormParameterGrads(Index1D thread, ArrayView<float> gammaSums, ArrayView<float> betaSums,
        ArrayView<float> gammaGrad, ArrayView<float> betaGrad, BatchNormShape s, int chunks, WorkSplit split)
    {
        var gammaSums8 = gammaSums.Cast<Float8>();
        var betaSums8 = betaSums.Cast<Float8>();
        var gammaGrad8 = gammaGrad.Cast<Float8>();
        var betaGrad8 = betaGrad.Cast<Float8>();
        int end = split.End(thread);
        for (int g = split.Start(thread); g < end; g++)
        {
            Float8 dGamma = default, dBeta = default;
            for (int k = 0; k < chunks; k++)
            {
                dGamma.Add(gammaSums8[k * s.Groups + g]);
                dBeta.Add(betaSums8[k * s.Groups + g]);
            }
            gammaGrad8[g] = dGamma;
            betaGrad8[g] = dBeta;
        }
    }

    /// <summary>
    /// dx = γ·(1/√(σ²+ε))/m · (m·dy - dβ - x̂·dγ), the gradient through the batch statistics as
    /// well as the normalization (m = rows). Items are groups of 8 elements, as in BatchNormForward.
    /// With s.Relu, dy where y &gt; 0, as in BatchNormBackwardReduce.
    /// </summary>
    public static void BatchNormBackward(Index1D thread, ArrayView<float> input, ArrayView<float> outputGrad,
        ArrayView<float> inputGrad, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> statistics, ArrayView<float> gammaGrad,
        ArrayView<float> betaGrad, BatchNormShape s, WorkSplit split)
    {
        var x8 = input.Cast<Float8>();
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
            Float8 dy = s.Relu != 0 ? Lanes.WherePositive(Affine(gamma.Cast<Float8>()[g], normalized, beta.Cast<Float8>()[g]), dy8[i]) : dy8[i];
            dx8[i] = scale * (rows * dy - betaGrad.Cast<Float8>()[g] - normalized * gammaGrad.Cast<Float8>()[g]);
            if (++g == s.Groups) g = 0;
        }
    }
}
