using ILGPU;
using ILGPU.Algorithms;

namespace GpuCnn.Kernels;

public static class LossKernels
{
    /// <summary>
    /// Softmax and cross-entropy in one pass per row against targets q = (1 - s)·onehot(label) + s/K
    /// (label smoothing s; s = 0: the one-hot label). Subtracting the row max keeps exp() finite;
    /// loss = log Σ exp(z - max) - Σ q_k (z_k - max). Also writes the gradient (softmax - q)·gradScale
    /// (gradScale = 1/batch for a mean loss; 0 skips it) and the predicted class. Items are rows.
    /// </summary>
    public static void SoftmaxCrossEntropy(Index1D thread, ArrayView<float> logits, ArrayView<int> labels,
        ArrayView<float> logitGrad, ArrayView<float> rowLoss, ArrayView<int> predictions, int classes,
        float gradScale, float smoothing, WorkSplit split)
    {
        int end = split.End(thread);
        for (int row = split.Start(thread); row < end; row++)
        {
            int offset = row * classes;
            float max = logits[offset];
            int argmax = 0;
            for (int k = 1; k < classes; k++)
            {
                float v = logits[offset + k];
                if (v > max) { max = v; argmax = k; }
            }
            float sum = 0f, shiftedSum = 0f;
            for (int k = 0; k < classes; k++)
            {
                sum += XMath.Exp(logits[offset + k] - max);
                shiftedSum += logits[offset + k] - max;
            }
            int label = labels[row];
            float spread = smoothing / classes;
            rowLoss[row] = XMath.Log(sum) - ((1f - smoothing) * (logits[offset + label] - max) + spread * shiftedSum);
            predictions[row] = argmax;
            if (gradScale != 0f)
            {
                float inverseSum = 1f / sum;
                for (int k = 0; k < classes; k++)
                {
                    float p = XMath.Exp(logits[offset + k] - max) * inverseSum;
                    logitGrad[offset + k] = (p - ((k == label ? 1f - smoothing : 0f) + spread)) * gradScale;
                }
            }
        }
    }

    /// <summary>
    /// Adds a batch's rows to running totals: totals[0] += Σ loss, totals[1] += correct,
    /// totals[2] += rows; and records predictions at predictionLog[logOffset + row] when logOffset
    /// is not negative. One thread, in row order, so the totals are the same bits on every run.
    /// </summary>
    public static void AccumulateMetrics(Index1D thread, ArrayView<float> rowLoss, ArrayView<int> predictions,
        ArrayView<int> labels, int rows, ArrayView<double> totals, ArrayView<int> predictionLog, int logOffset)
    {
        double loss = 0.0;
        int correct = 0;
        for (int row = 0; row < rows; row++)
        {
            loss += rowLoss[row];
            if (predictions[row] == labels[row]) correct++;
            if (logOffset >= 0) predictionLog[logOffset + row] = predictions[row];
        }
        totals[0] += loss;
        totals[1] += correct;
        totals[2] += rows;
    }
}
