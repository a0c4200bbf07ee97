using System.Reflection;
using System.Runtime.InteropServices;
using GpuCnn.Distributed;

namespace GpuCnn.Mpi;

/// <summary>
/// The MPI job this process is a rank of, when `mpiexec` (or `mpirun`) started it; null otherwise,
/// and then no MPI library is loaded. MPI.NET calls MS-MPI's msmpi.dll; on Linux a resolver loads
/// an MPICH-ABI library in its place (libmpich.so.12: MPICH, Intel MPI, Cray MPICH, MVAPICH;
/// GPUCNN_MPI_LIBRARY names another). Open MPI's ABI differs and is refused. A DataParallel
/// takes it as its collectives.
/// </summary>
public sealed class MpiSession : ICommunicator
{
    const string DefaultLibrary = "libmpich.so.12";
    static int resolverSet;
    readonly MPI.Environment environment;

    public int Rank => MPI.Communicator.world.Rank;
    public int Size => MPI.Communicator.world.Size;

    /// <summary>The rank among those on this node, from the launcher's environment (0 when it does not say).</summary>
    public int LocalRank { get; }

    MpiSession(MPI.Environment environment, int localRank)
    {
        this.environment = environment;
        LocalRank = localRank;
    }

    /// <summary>World size as the launcher set it (MPICH's hydra: PMI_SIZE; Open MPI: OMPI_COMM_WORLD_SIZE), or 1.</summary>
    public static int LaunchedSize() =>
        int.TryParse(Environment.GetEnvironmentVariable("PMI_SIZE") ?? Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE"), out int n) ? n : 1;

    /// <summary>Joins the job when launched by MPI with more than one rank; null for a plain process.</summary>
    public static MpiSession? Join()
    {
        if (LaunchedSize() <= 1) return null;
        if (Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is not null)
            throw new MpiUnavailableException("this job was started by Open MPI, whose ABI MPI.NET cannot use; run it with an MPICH-ABI mpiexec (MPICH, Intel MPI, MVAPICH, Cray MPICH)");
        string library = Environment.GetEnvironmentVariable("GPUCNN_MPI_LIBRARY") ?? DefaultLibrary;
        if (Interlocked.Exchange(ref resolverSet, 1) == 0)
            NativeLibrary.SetDllImportResolver(typeof(MPI.Environment).Assembly, (name, _, _) =>
                name.StartsWith("msmpi", StringComparison.OrdinalIgnoreCase) ? NativeLibrary.Load(library) : IntPtr.Zero);
        try
        {
            string[] args = [];
            var environment = new MPI.Environment(ref args);
            int localRank = int.TryParse(Environment.GetEnvironmentVariable("MPI_LOCALRANKID") ?? Environment.GetEnvironmentVariable("PMI_LOCAL_RANK"), out int l) ? l : 0;
            return new MpiSession(environment, localRank);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException or TargetInvocationException)
        {
            throw new MpiUnavailableException($"the MPI library {library} cannot be loaded ({e.GetBaseException().Message}); install MPICH (apt-get install mpich) or set GPUCNN_MPI_LIBRARY to an MPICH-ABI library");
        }
    }

    public void AllreduceSum<T>(T[] values) where T : unmanaged =>
        MPI.Communicator.world.Allreduce(values, MPI.Operation<T>.Add).CopyTo(values, 0);

    public long[] AllGather(long value) => MPI.Communicator.world.Allgather(value);

    public void Broadcast(ref float[] values, int root) => MPI.Communicator.world.Broadcast(ref values, root);

    public void Barrier() => MPI.Communicator.world.Barrier();

    public void Abort(int exitCode) => MPI.Communicator.world.Abort(exitCode);

    /// <summary>This process's rank as the launcher set it (PMI_RANK, OMPI_COMM_WORLD_RANK), or 0; known before joining.</summary>
    public static int LaunchedRank() =>
        int.TryParse(Environment.GetEnvironmentVariable("PMI_RANK") ?? Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_RANK"), out int r) ? r : 0;

    public void Dispose() => environment.Dispose();
}

/// <summary>MPI was asked for (the process runs under mpiexec) but cannot be used; the message says why and what to do.</summary>
public sealed class MpiUnavailableException(string message) : Exception(message);
