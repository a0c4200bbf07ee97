using GpuCnn.Devices;
using GpuCnn.Tensors;
using ILGPU;
using ILGPU.Runtime;

namespace GpuCnn.Training;

/// <summary>
/// The loss: softmax cross-entropy over one-hot labels and its gradient. Each call adds the
/// batch's loss and correct count to the <see cref="LossTotals"/> it is given, so training and
/// evaluation keep their figures apart.
/// </summary>
public sealed class SoftmaxCrossEntropy : IDisposable
{
    readonly ComputeDevice device;
    readonly int classes;
    readonly Tensor logitGrad, rowLoss;
    readonly Tensor<int> predictions;

    public SoftmaxCrossEntropy(ComputeDevice device, int maxBatch, int classes)
    {
        this.device = device;
        this.classes = classes;
        logitGrad = Tensor.Zeros(device, maxBatch, classes);
        rowLoss = Tensor.Zeros(device, maxBatch);
        predictions = Tensor<int>.Zeros(device, maxBatch);
    }

    /// <summary>
    /// Loss of one batch, logits (rows × classes) against labels (rows), added to
    /// <paramref name="totals"/>; returns dL/dlogits (rows × classes) of the mean loss, a view
    /// the next call overwrites. The mean is over <paramref name="meanOverRows"/> rows (default:
    /// these): a data-parallel rank passes the whole batch's rows, so the ranks' gradients add up
    /// to the batch's. <paramref name="logOffset"/> records each row's prediction in the totals'
    /// log from that position (negative: none). <paramref name="smoothing"/> is label smoothing's s:
    /// the targets are (1 - s)·onehot + s/classes.
    /// </summary>
    public Tensor Forward(Tensor logits, ArrayView<int> labels, LossTotals totals, int meanOverRows = 0, int logOffset = -1, float smoothing = 0f)
    {
        int rows = logits.Shape[0];
        var k = device.Kernels;
        k.SoftmaxCrossEntropy(logits.View, labels, logitGrad.View, rowLoss.View, predictions.View, rows, classes,
            1f / (meanOverRows > 0 ? meanOverRows : rows), smoothing);
        k.AccumulateMetrics(rowLoss.View, predictions.View, labels, rows, totals.Sums, totals.PredictionLog, logOffset);
        return logitGrad.FirstRows(rows);
    }

    public void Dispose()
    {
        logitGrad.Dispose();
        rowLoss.Dispose();
        predictions.Dispose();
    }
}

/// <summary>
/// A pass's loss sum, correct count and rows, kept on the device and read back once per epoch or
/// progress tick, with an optional log of every prediction. In a data-parallel run the figures
/// and the log are summed over the ranks as they are read, so every rank reads the whole pass's.
/// </summary>
public sealed class LossTotals(ComputeDevice device, Distributed.DataParallel? parallel = null) : IDisposable
{
    /// <summary>(loss sum, correct count, rows).</summary>
    readonly Tensor<double> sums = Tensor<double>.Zeros(device, 3);
    Tensor<int> predictionLog = Tensor<int>.Zeros(device, 1);

    internal ArrayView<double> Sums => sums.View;
    internal ArrayView<int> PredictionLog => predictionLog.View;

    public void Reset() => sums.View.MemSetToZero();

    /// <summary>Makes room to record every prediction of a pass over <paramref name="count"/> images.</summary>
    public void EnsurePredictionLog(int count)
    {
        if (predictionLog.Length < count)
        {
            predictionLog.Dispose();
            predictionLog = Tensor<int>.Zeros(device, count);
        }
        // Each rank logs only its rows; the others' stay 0 for the sum.
        if (parallel is not null) predictionLog.View.SubView(0, count).MemSetToZero();
    }

    /// <summary>(mean loss, accuracy, rows) so far; one small copy from the device.</summary>
    public (double Loss, double Accuracy, int Rows) Read()
    {
        var values = new double[3];
        sums.View.CopyToCPU(values);
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
        sums.Dispose();
        predictionLog.Dispose();
    }
}
