using GpuCnn.Kernels;
using ILGPU;

namespace GpuCnn.Devices;

/// <summary>Launchers of LossKernels: the fused softmax cross-entropy and the metric totals.</summary>
public sealed partial class KernelLauncher
{
    readonly SplitKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, float, float> softmaxCrossEntropy =
        new(LossKernels.SoftmaxCrossEntropy);
    readonly Kernel<ArrayView<float>, ArrayView<int>, ArrayView<int>, int, ArrayView<double>, ArrayView<int>, int> accumulateMetrics =
        new(LossKernels.AccumulateMetrics);

    public void SoftmaxCrossEntropy(ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> logitGrad,
        ArrayView<float> rowLoss, ArrayView<int> predictions, int rows, int classes, float gradScale, float smoothing)
    {
        const string kernel = nameof(SoftmaxCrossEntropy);
        Require(kernel, "logits", logits, rows, classes);
        Require(kernel, "labels", labels, rows);
        Require(kernel, "logitGrad", logitGrad, rows, classes);
        Require(kernel, "rowLoss", rowLoss, rows);
        Require(kernel, "predictions", predictions, rows);
        softmaxCrossEntropy.LaunchSplit(this, rows, classes, logits, labels, logitGrad, rowLoss, predictions, classes, gradScale, smoothing);
    }

    /// <summary>One work-item adds the batch's rows in order: the totals are the same bits on every run.</summary>
    public void AccumulateMetrics(ArrayView<float> rowLoss, ArrayView<int> predictions, ArrayView<int> labels, int rows,
        ArrayView<double> totals, ArrayView<int> predictionLog, int logOffset)
    {
        const string kernel = nameof(AccumulateMetrics);
        Require(kernel, "rowLoss", rowLoss, rows);
        Require(kernel, "predictions", predictions, rows);
        Require(kernel, "labels", labels, rows);
        Require(kernel, "totals", totals, 3); // loss, correct, rows
        if (logOffset >= 0) Require(kernel, "predictionLog", predictionLog, logOffset + rows);
        accumulateMetrics.Launch(this, 1, rows, rowLoss, predictions, labels, rows, totals, predictionLog, logOffset);
    }
}
