namespace GpuCnn.Tests;

/// <summary>
/// What the tests that need an optional runtime (OpenCL, ptxas, Node, MPICH) share: finding a
/// program, and the skip that becomes a failure where CI sets GPUCNN_REQUIRE_&lt;NAME&gt;=1.
/// </summary>
public static class OptionalRuntime
{
    /// <summary>The program's path in a folder of PATH, or null.</summary>
    public static string? OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
        .Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);

    /// <summary>Nothing when absence is null; else a skip saying why, or a failure when GPUCNN_REQUIRE_{name}=1.</summary>
    public static void Require(string name, string? absence)
    {
        if (absence is null) return;
        if (Environment.GetEnvironmentVariable($"GPUCNN_REQUIRE_{name}") == "1") Assert.Fail($"GPUCNN_REQUIRE_{name}=1 but {absence}");
        Assert.Skip("skipped: " + absence);
    }

    /// <summary>The checkout: the folder above the test binaries that holds GpuCnn.sln.</summary>
    public static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "GpuCnn.sln"))) folder = folder.Parent;
        return folder?.FullName ?? throw new InvalidOperationException("GpuCnn.sln not found above " + AppContext.BaseDirectory);
    }
}
