using GpuCnn.Devices;
using GpuCnn.Tensors;
using ILGPU;
using ILGPU.Runtime;

namespace GpuCnn.Training;

/// <summary>
/// The loss: softmax cross-entropy over one-hot labels, its gradient, and running totals (loss
/// sum, correct count, rows) kept on the device and read back once per epoch or progress tick.
/// In a data-parallel run the totals and the prediction log are summed over the ranks as they are
/// read, so every rank reads the figures of the whole batch or data set.
/// </summary>
public sealed class SoftmaxCrossEntropy : IDisposable
{
    readonly ComputeDevice device;
    readonly int classes;
    readonly MemoryBuffer1D<float, Stride1D.Dense> rowLoss;
    readonly MemoryBuffer1D<int, Stride1D.Dense> predictions;
    readonly MemoryBuffer1D<double, Stride1D.Dense> totals;
    MemoryBuffer1D<int, Stride1D.Dense> predictionLog;
    readonly Distributed.DataParallel? parallel;

    public Tensor LogitGrad { get; }

    public SoftmaxCrossEntropy(ComputeDevice device, int maxBatch, int classes, Distributed.DataParallel? parallel = null)
    {
        this.parallel = parallel;
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
        if (predictionLog.Length < count)
        {
            predictionLog.Dispose();
            predictionLog = DeviceMemory.Allocate<int>(device, count, "prediction log");
        }
        // Each rank logs only its rows; the others' stay 0 for the sum.
        if (parallel is not null) predictionLog.View.SubView(0, count).MemSetToZero();
    }

    /// <summary>
    /// Loss of one batch; with training, also dL/dlogits of the mean loss into LogitGrad. The mean
    /// is over <paramref name="meanOverRows"/> rows (default: these): a data-parallel rank passes
    /// the whole batch's rows, so the ranks' gradients add up to the batch's.
    /// </summary>
    public void Compute(Tensor logits, ArrayView<int> labels, bool training, int logOffset = -1, int meanOverRows = 0)
    {
        int rows = logits.Shape[0];
        var k = device.Kernels;
        k.SoftmaxCrossEntropy(logits.View, labels, LogitGrad.View, rowLoss.View, predictions.View, rows, classes,
            training ? 1f / (meanOverRows > 0 ? meanOverRows : rows) : 0f);
        k.AccumulateMetrics(rowLoss.View, predictions.View, labels, rows, totals.View, predictionLog.View, logOffset);
    }

    public Tensor LogitGradFor(int rows) => LogitGrad.FirstRows(rows);

    /// <summary>(mean loss, accuracy, rows) so far; one small copy from the device.</summary>
    public (double Loss, double Accuracy, int Rows) ReadTotals()
    {
        var values = new double[3];
        totals.View.CopyToCPU(values);
        parallel?.Sum(values);
        int rows = (int)values[2];
        return rows == 0 ? (0, 0, 0) : (values[0] / rows, values[1] / rows, rows);
    }

    public int[] ReadPredictions(int count)
    {
        var values = new int[count];
        predictionLog.View.SubView(0, count).CopyToCPU(values);
        parallel?.Sum(values);
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
