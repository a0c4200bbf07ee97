using GpuCnn.Devices;
using GpuCnn.Tensors;
using ILGPU;
using ILGPU.Runtime;

namespace GpuCnn.Training;

/// <summary>
/// The loss: softmax cross-entropy over one-hot labels, its gradient, and running totals (loss
/// sum, correct count, rows) kept on the device and read back once per epoch or progress tick.
/// </summary>
public sealed class SoftmaxCrossEntropy : IDisposable
{
    readonly ComputeDevice device;
    readonly int classes;
    readonly MemoryBuffer1D<float, Stride1D.Dense> rowLoss;
    readonly MemoryBuffer1D<int, Stride1D.Dense> predictions;
    readonly MemoryBuffer1D<double, Stride1D.Dense> totals;
    MemoryBuffer1D<int, Stride1D.Dense> predictionLog;

    public Tensor LogitGrad { get; }

    public SoftmaxCrossEntropy(ComputeDevice device, int maxBatch, int classes)
    {
        this.device = device;
        this.classes = classes;
        LogitGrad = Tensor.Zeros(device, maxBatch, classes);
        rowLoss = DeviceMemory.Allocate<float>(device, maxBatch, "row losses");
        predictions = DeviceMemory.Allocate<int>(device, maxBatch, "predictions");
        totals = DeviceMemory.Allocate<double>(device, 3, "loss totals");
        predictionLog = DeviceMemory.Allocate<int>(device, 1, "prediction log");
    }

    public void ResetTotals() => totals.MemSetToZero();

    /// <summary>Makes room to record every prediction of a pass over <paramref name="count"/> images.</summary>
    public void EnsurePredictionLog(int count)
    {
        if (predictionLog.Length >= count) return;
        predictionLog.Dispose();
        predictionLog = DeviceMemory.Allocate<int>(device, count, "prediction log");
    }

    /// <summary>Loss of one batch; with training, also dL/dlogits of the mean loss into LogitGrad.</summary>
    public void Compute(Tensor logits, ArrayView<int> labels, bool training, int logOffset = -1)
    {
        int rows = logits.Shape[0];
        var k = device.Kernels;
        k.SoftmaxCrossEntropy(logits.View, labels, LogitGrad.View, rowLoss.View, predictions.View, rows, classes,
            training ? 1f / rows : 0f);
        k.AccumulateMetrics(rowLoss.View, predictions.View, labels, rows, totals.View, predictionLog.View, logOffset);
    }

    public Tensor LogitGradFor(int rows) => LogitGrad.FirstRows(rows);

    /// <summary>(mean loss, accuracy, rows) so far; one small copy from the device.</summary>
    public (double Loss, double Accuracy, int Rows) ReadTotals()
    {
        var values = new double[3];
        totals.View.CopyToCPU(values);
        int rows = (int)values[2];
        return rows == 0 ? (0, 0, 0) : (values[0] / rows, values[1] / rows, rows);
    }

    public int[] ReadPredictions(int count)
    {
        var values = new int[count];
        predictionLog.View.SubView(0, count).CopyToCPU(values);
        return values;
    }

    public void Dispose()
    {
        LogitGrad.Dispose();
        rowLoss.Dispose();
        predictions.Dispose();
        totals.Dispose();
        predictionLog.Dispose();
    }
}
