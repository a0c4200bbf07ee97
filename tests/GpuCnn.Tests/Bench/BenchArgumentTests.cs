using System.Diagnostics;

namespace GpuCnn.Tests.Bench;

/// <summary>Bad options to the bench: one line naming the option, exit code 2, no stack trace.</summary>
public sealed class BenchArgumentTests
{
    [Theory]
    [InlineData("--vector-bits", "256")]
    [InlineData("--variant", "tile7")]
    [InlineData("--batches", "many")]
    [InlineData("--device", "gpu")]
    [InlineData("--step-ms", "seed")]
    public void ABadValueGetsOneLineAndExitCodeTwo(string option, string value)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "GpuCnn.Bench.dll"), option, value }) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        string error = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.Equal(2, process.ExitCode);
        Assert.StartsWith($"error: {option} {value}:", error);
        Assert.Single(error.Trim().Split('\n'));
    }
}
