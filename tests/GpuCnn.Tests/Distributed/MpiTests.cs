using System.Diagnostics;
using GpuCnn.Mpi;

namespace GpuCnn.Tests.Distributed;

/// <summary>
/// MPI through MPI.NET over an MPICH-ABI library: two ranks under mpiexec allreduce exactly; a
/// library that cannot be loaded is one clear line; a plain process joins no MPI job. The
/// mpiexec tests say they skipped where MPICH is absent; CI (GPUCNN_REQUIRE_MPI=1) requires them.
/// </summary>
public sealed class MpiTests
{
    /// <summary>The bench's dll, copied beside the tests by the project reference.</summary>
    static string Bench() => Path.Combine(AppContext.BaseDirectory, "GpuCnn.Bench.dll");

    static (int ExitCode, string Output, string Error) Run(string program, IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) start.Environment[k] = v;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        string error = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), $"{program} did not end");
        return (process.ExitCode, output.Result, error);
    }

    [Fact]
    public void TwoRanksAllreduceExactly()
    {
        string? mpiexec = OptionalRuntime.OnPath("mpiexec");
        OptionalRuntime.Require("MPI", mpiexec is null ? "no mpiexec on PATH (install MPICH: apt-get install mpich)" : null);
        var r = Run(mpiexec!, ["-n", "2", "dotnet", Bench(), "--allreduce", "true", "--step-ms", "seed=40"]);
        Assert.True(r.ExitCode == 0, r.Error);
        Messages.Says(r.Output, "across 2 ranks");
        // Four fixed sizes and every zoo model's gradient.
        Assert.Equal(4 + GpuCnn.Models.ModelZoo.Names.Count, r.Output.Split('\n').Count(l => l.Contains("(sum exact)")));
        Assert.Matches(@"seed gradient +0\.86 MiB +[0-9.]+ ms \(sum exact\); at a 40\.0 ms step, [0-9]+ % efficiency on paper", r.Output);
    }

    [Fact]
    public void AnMpiLibraryThatCannotBeLoadedIsOneClearLine()
    {
        var r = Run("dotnet", [Bench(), "--allreduce", "true"],
            new Dictionary<string, string> { ["PMI_SIZE"] = "2", ["GPUCNN_MPI_LIBRARY"] = "libgpucnn-no-such-mpi.so" });
        Assert.Equal(2, r.ExitCode);
        Messages.Says(r.Error, "error: the MPI library libgpucnn-no-such-mpi.so cannot be loaded");
        Assert.DoesNotContain("   at ", r.Error);
    }

    [Fact]
    public void APlainProcessJoinsNoMpiJob() => Assert.Null(MpiSession.Join());
}
