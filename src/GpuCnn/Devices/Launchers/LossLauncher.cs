using GpuCnn.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuCnn.Devices;

/// <summary>Launchers of LossKernels: the fused softmax cross-entropy and the metric totals.</summary>
public sealed partial class KernelLauncher
{
    Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, float, WorkSplit>? softmaxCrossEntropy;
    Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<int>, int, ArrayView<double>, ArrayView<int>, int>? accumulateMetrics;

    public void SoftmaxCrossEntropy(ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> logitGrad,
        ArrayView<float> rowLoss, ArrayView<int> predictions, int rows, int classes, float gradScale)
    {
        var split = Plan.Split(rows);
        if (Launching(nameof(LossKernels.SoftmaxCrossEntropy), split.Threads, (long)split.Chunk * classes))
            Load(ref softmaxCrossEntropy, LossKernels.SoftmaxCrossEntropy)
                (split.Threads, logits, labels, logitGrad, rowLoss, predictions, classes, gradScale, split);
    }

    /// <summary>One work-item adds the batch's rows in order: the totals are the same bits on every run.</summary>
    public void AccumulateMetrics(ArrayView<float> rowLoss, ArrayView<int> predictions, ArrayView<int> labels, int rows,
        ArrayView<double> totals, ArrayView<int> predictionLog, int logOffset)
    {
        if (Launching(nameof(LossKernels.AccumulateMetrics), 1, rows))
            Load(ref accumulateMetrics, LossKernels.AccumulateMetrics)(1, rowLoss, predictions, labels, rows, totals, predictionLog, logOffset);
    }
}
