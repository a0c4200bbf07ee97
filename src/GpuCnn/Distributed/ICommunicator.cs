namespace GpuCnn.Distributed;

/// <summary>
/// The collectives a data-parallel job needs, across its ranks: each is called by every rank at
/// the same point. The core library holds no implementation (that needs an MPI library); the
/// GpuCnn.Mpi package's MpiSession is one.
/// </summary>
public interface ICommunicator : IDisposable
{
    int Rank { get; }
    int Size { get; }
    /// <summary>The rank among those on this node (which GPU to take).</summary>
    int LocalRank { get; }

    /// <summary>values ← the element-wise sum of every rank's values (in place; floats, doubles, ints).</summary>
    void AllreduceSum<T>(T[] values) where T : unmanaged;

    /// <summary>Every rank's value, in rank order, on every rank.</summary>
    long[] AllGather(long value);

    /// <summary>values ← root's values on every rank.</summary>
    void Broadcast(ref float[] values, int root);

    void Barrier();

    /// <summary>Ends the whole job with this exit code.</summary>
    void Abort(int exitCode);
}
