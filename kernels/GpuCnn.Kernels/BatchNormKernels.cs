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
        int end = split.End(thread);
        for (int item = split.Start(thread); item < end; item++) ChunkStatistics(item, input, sums, squares, s, rowChunk);
    }

    /// <summary>
    /// BatchNormChunkStatistics four items side by side (<see cref="ChunkQuad"/>), for a plan whose
    /// work-items take runs of items (PoCL's); a kernel of its own, so the one-item kernel keeps a
    /// GPU's occupancy (40-64 registers a thread on sm_60-sm_90, where four items take 128).
    /// </summary>
    public static void BatchNormChunkStatisticsQuads(Index1D thread, ArrayView<float> input, ArrayView<float> sums,
        ArrayView<float> squares, BatchNormShape s, int rowChunk, WorkSplit split)
    {
        var x8 = input.Cast<Float8>();
        var sums8 = sums.Cast<Float8>();
        var squares8 = squares.Cast<Float8>();
        int item = split.Start(thread), end = split.End(thread), groups = s.Groups;
        for (; item + ChunkQuad.Items <= end; item += ChunkQuad.Items)
        {
            var q = new ChunkQuad(item, groups, s.Rows, rowChunk);
            q.Sums(x8, groups, out var sum0, out var sum1, out var sum2, out var sum3);
            Float8 mean0 = (1f / q.Rows0) * sum0, mean1 = (1f / q.Rows1) * sum1, mean2 = (1f / q.Rows2) * sum2, mean3 = (1f / q.Rows3) * sum3;
            q.SquaredDeviations(x8, groups, mean0, mean1, mean2, mean3, out var square0, out var square1, out var square2, out var square3);
            sums8[item] = sum0; sums8[item + 1] = sum1; sums8[item + 2] = sum2; sums8[item + 3] = sum3;
            squares8[item] = square0; squares8[item + 1] = square1; squares8[item + 2] = square2; squares8[item + 3] = square3;
        }
        for (; item < end; item++) ChunkStatistics(item, input, sums, squares, s, rowChunk);
    }

    /// <summary>One item of BatchNormChunkStatistics: its chunk's sum, then the squared deviations from the chunk's mean.</summary>
    static void ChunkStatistics(int item, ArrayView<float> input, ArrayView<float> sums, ArrayView<float> squares, BatchNormShape s, int rowChunk)
    {
        var x8 = input.Cast<Float8>();
        ChunkQuad.Span(item, s.Groups, s.Rows, rowChunk, out int at, out int rows);
        Float8 sum = default, square = default;
        ChunkQuad.Sum(x8, at, 0, rows, s.Groups, ref sum);
        Float8 mean = (1f / rows) * sum;
        ChunkQuad.SquaredDeviation(x8, at, 0, rows, s.Groups, mean, ref square);
        sums.Cast<Float8>()[item] = sum;
        squares.Cast<Float8>()[item] = square;
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
        int end = split.End(thread);
        for (int item = split.Start(thread); item < end; item++)
            ReduceChunk(item, input, outputGrad, gamma, beta, statistics, gammaSums, betaSums, s, rowChunk);
    }

    /// <summary>
    /// BatchNormBackwardReduce four items side by side (<see cref="ChunkQuad"/>), for a plan whose
    /// work-items take runs of items (PoCL's). A kernel of its own: on a GPU the four items'
    /// registers (255 a thread on sm_60, and spilling) would cost the one-item kernel its occupancy.
    /// </summary>
    public static void BatchNormBackwardReduceQuads(Index1D thread, ArrayView<float> input, ArrayView<float> outputGrad,
        ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> statistics, ArrayView<float> gammaSums, ArrayView<float> betaSums,
        BatchNormShape s, int rowChunk, WorkSplit split)
    {
        var x8 = input.Cast<Float8>();
        var dy8 = outputGrad.Cast<Float8>();
        var gammaSums8 = gammaSums.Cast<Float8>();
        var betaSums8 = betaSums.Cast<Float8>();
        int item = split.Start(thread), end = split.End(thread), groups = s.Groups;
        for (; item + ChunkQuad.Items <= end; item += ChunkQuad.Items)
        {
            var q = new ChunkQuad(item, groups, s.Rows, rowChunk);
            var c0 = new ChannelAffine(statistics, gamma, beta, q.At0 % groups, groups, s.Relu);
            var c1 = new ChannelAffine(statistics, gamma, beta, q.At1 % groups, groups, s.Relu);
            var c2 = new ChannelAffine(statistics, gamma, beta, q.At2 % groups, groups, s.Relu);
            var c3 = new ChannelAffine(statistics, gamma, beta, q.At3 % groups, groups, s.Relu);
            Float8 dGamma0 = default, dGamma1 = default, dGamma2 = default, dGamma3 = default;
            Float8 dBeta0 = default, dBeta1 = default, dBeta2 = default, dBeta3 = default;
            for (int o = 0; o < q.Common * groups; o += groups)
            {
                c0.AddRow(x8[q.At0 + o], dy8[q.At0 + o], ref dGamma0, ref dBeta0);
                c1.AddRow(x8[q.At1 + o], dy8[q.At1 + o], ref dGamma1, ref dBeta1);
                c2.AddRow(x8[q.At2 + o], dy8[q.At2 + o], ref dGamma2, ref dBeta2);
                c3.AddRow(x8[q.At3 + o], dy8[q.At3 + o], ref dGamma3, ref dBeta3);
            }
            c0.AddRows(x8, dy8, q.At0, q.Common, q.Rows0, groups, ref dGamma0, ref dBeta0);
            c1.AddRows(x8, dy8, q.At1, q.Common, q.Rows1, groups, ref dGamma1, ref dBeta1);
            c2.AddRows(x8, dy8, q.At2, q.Common, q.Rows2, groups, ref dGamma2, ref dBeta2);
            c3.AddRows(x8, dy8, q.At3, q.Common, q.Rows3, groups, ref dGamma3, ref dBeta3);
            gammaSums8[item] = dGamma0; gammaSums8[item + 1] = dGamma1; gammaSums8[item + 2] = dGamma2; gammaSums8[item + 3] = dGamma3;
            betaSums8[item] = dBeta0; betaSums8[item + 1] = dBeta1; betaSums8[item + 2] = dBeta2; betaSums8[item + 3] = dBeta3;
        }
        for (; item < end; item++) ReduceChunk(item, input, outputGrad, gamma, beta, statistics, gammaSums, betaSums, s, rowChunk);
    }

    /// <summary>One item of BatchNormBackwardReduce: its chunk's rows in order.</summary>
    static void ReduceChunk(int item, ArrayView<float> input, ArrayView<float> outputGrad, ArrayView<float> gamma, ArrayView<float> beta,
        ArrayView<float> statistics, ArrayView<float> gammaSums, ArrayView<float> betaSums, BatchNormShape s, int rowChunk)
    {
        ChunkQuad.Span(item, s.Groups, s.Rows, rowChunk, out int at, out int rows);
        var c = new ChannelAffine(statistics, gamma, beta, item % s.Groups, s.Groups, s.Relu);
        Float8 dGamma = default, dBeta = default;
        c.AddRows(input.Cast<Float8>(), outputGrad.Cast<Float8>(), at, 0, rows, s.Groups, ref dGamma, ref dBeta);
        gammaSums.Cast<Float8>()[item] = dGamma;
        betaSums.Cast<Float8>()[item] = dBeta;
    }

    /// <summary>One group of 8 channels' μ, 1/√(σ²+ε), γ and β, for BatchNormBackwardReduce's sums.</summary>
    readonly struct ChannelAffine
    {
        readonly Float8 mean, inverseStd, gamma, beta;
        readonly int relu;

        public ChannelAffine(ArrayView<float> statistics, ArrayView<float> gamma, ArrayView<float> beta, int g, int groups, int relu)
        {
            mean = statistics.Cast<Float8>()[g];
            inverseStd = statistics.Cast<Float8>()[groups + g];
            this.gamma = gamma.Cast<Float8>()[g];
            this.beta = beta.Cast<Float8>()[g];
            this.relu = relu;
        }

        /// <summary>dγ += dy·x̂ and dβ += dy for one row, dy taken where the ReLU's output is positive with relu.</summary>
        public void AddRow(in Float8 x, in Float8 outputGrad, ref Float8 dGamma, ref Float8 dBeta)
        {
            Float8 normalized = (x - mean) * inverseStd;
            Float8 dy = relu != 0 ? Lanes.WherePositive(Affine(gamma, normalized, beta), outputGrad) : outputGrad;
            dGamma.Add(dy * normalized);
            dBeta.Add(dy);
        }

        /// <summary>AddRow over rows [from, to) of the item whose first row is at.</summary>
        public void AddRows(ArrayView<Float8> x8, ArrayView<Float8> dy8, int at, int from, int to, int groups, ref Float8 dGamma, ref Float8 dBeta)
        {
            for (int r = from; r < to; r++) AddRow(x8[at + r * groups], dy8[at + r * groups], ref dGamma, ref dBeta);
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
