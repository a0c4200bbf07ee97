using GpuCnn.Models;
using GpuCnn.Tensors;
using ILGPU.Runtime;

namespace GpuCnn.Distributed;

/// <summary>
/// One model trained by the N ranks of an MPI job, as PyTorch's DDP does: every rank holds the
/// whole model and data set, takes its share of each global mini-batch, and the gradients are
/// summed with one Allreduce per step over the flat gradient buffer, so that the same optimizer
/// step runs everywhere. Each collective here is called by every rank at the same point.
/// </summary>
/// <param name="mpi">The job's collectives (GpuCnn.Mpi's MpiSession under mpiexec); disposed with this.</param>
public sealed class DataParallel(ICommunicator mpi) : IDisposable
{
    float[] host = [];

    public int Rank => mpi.Rank;
    public int Size => mpi.Size;
    public int LocalRank => mpi.LocalRank;
    public bool IsRoot => Rank == 0;

    /// <summary>This rank's rows [Start, Start + Count) of a batch of <paramref name="rows"/>: contiguous, in rank order, sizes differing by at most one.</summary>
    public (int Start, int Count) Share(int rows) => ShareOf(rows, Rank, Size);

    public static (int Start, int Count) ShareOf(int rows, int rank, int size)
    {
        long start = (long)rows * rank / size, end = (long)rows * (rank + 1) / size;
        return ((int)start, (int)(end - start));
    }

    /// <summary>The step's gradient: each rank's (already divided by the global batch's rows) summed into every rank's buffer.</summary>
    public void SumGradients(Sequential model) => Reduce(model.GradientBuffer, 1f);

    /// <summary>Batch norm's moving averages: the mean over the ranks, at each epoch's end (each rank saw other batches).</summary>
    public void AverageStatistics(Sequential model)
    {
        if (model.NonTrainableCount > 0) Reduce(model.StateBuffer, 1f / Size);
    }

    /// <summary>
    /// Rank 0's weights, tracked statistics and <paramref name="optimizerState"/> on every rank:
    /// identical starts, fresh or resumed.
    /// </summary>
    public void BroadcastFromRoot(Sequential model, IEnumerable<Tensor> optimizerState)
    {
        foreach (var tensor in new[] { model.ParameterBuffer, model.StateBuffer }.Concat(optimizerState))
        {
            var values = tensor.ToArray();
            mpi.Broadcast(ref values, 0);
            tensor.CopyFrom(values);
        }
    }

    /// <summary>
    /// One line per rank, in rank order, on every rank: "host, pid P: DEVICE". mpiexec names a
    /// rank that died by its pid and host, so the job's first lines say which rank that was.
    /// </summary>
    public IReadOnlyList<string> Describe(string device) =>
        AllGatherText($"{System.Environment.MachineName}, pid {System.Environment.ProcessId}: {device}");

    /// <summary>Each rank's text (UTF-8, cut at 256 bytes), packed into longs: MPI.NET's object collectives need BinaryFormatter, which .NET 10 lacks.</summary>
    IReadOnlyList<string> AllGatherText(string text)
    {
        const int Words = 32;
        var bytes = new byte[Words * 8];
        var encoded = System.Text.Encoding.UTF8.GetBytes(text);
        Array.Copy(encoded, bytes, Math.Min(encoded.Length, bytes.Length));
        var gathered = Enumerable.Range(0, Words).Select(w => mpi.AllGather(BitConverter.ToInt64(bytes, w * 8))).ToArray();
        return Enumerable.Range(0, Size).Select(rank =>
        {
            var mine = gathered.SelectMany(words => BitConverter.GetBytes(words[rank])).ToArray();
            return System.Text.Encoding.UTF8.GetString(mine).TrimEnd('\0');
        }).ToList();
    }

    /// <summary>Sums (loss, correct, rows, ...) over the ranks.</summary>
    public void Sum<T>(T[] values) where T : unmanaged => mpi.AllreduceSum(values);

    /// <summary>
    /// Checks that every rank holds the same parameters to the bit (a 64-bit hash of each rank's
    /// buffer, gathered); throws naming the ranks that differ. For tests and GPUCNN_MPI_VERIFY=1.
    /// </summary>
    public void VerifyIdentical(Sequential model, long step)
    {
        var values = model.ParameterBuffer.ToArray();
        ulong hash = 14695981039346656037UL;
        foreach (float v in values) hash = (hash ^ BitConverter.SingleToUInt32Bits(v)) * 1099511628211UL;
        var hashes = mpi.AllGather((long)hash);
        var differ = Enumerable.Range(0, Size).Where(r => hashes[r] != hashes[0]).ToList();
        if (differ.Count > 0)
            throw new InvalidOperationException($"after step {step} the weights of rank(s) {string.Join(", ", differ)} differ from rank 0's.");
    }

    /// <summary>tensor ← scale · Σ over ranks, through one host copy and one Allreduce.</summary>
    void Reduce(Tensor tensor, float scale)
    {
        if (host.Length != tensor.Length) host = new float[tensor.Length];
        tensor.View.CopyToCPU(host);
        mpi.AllreduceSum(host);
        if (scale != 1f)
            for (int i = 0; i < host.Length; i++) host[i] *= scale;
        tensor.CopyFrom(host);
    }

    public void Barrier() => mpi.Barrier();

    /// <summary>Ends the whole job (MPI_Abort): a rank that failed must not leave the others waiting in a collective.</summary>
    public void Abort(int exitCode) => mpi.Abort(exitCode);

    public void Dispose() => mpi.Dispose();
}
