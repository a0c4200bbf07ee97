using System.Diagnostics;
using System.Text.RegularExpressions;

namespace GpuCnn.Tests.Kernels;

/// <summary>NVIDIA's PTX assembler, run on ILGPU's PTX: registers and spills per kernel.</summary>
public static partial class Ptxas
{
    public sealed record Result(int ExitCode, string Output, int Registers, int SpillBytes);

    /// <summary>ptxas from GPUCNN_PTXAS, PATH or tools/fetch-ptxas.sh's cache; else a skip (a failure where required).</summary>
    public static string Find()
    {
        string cache = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "gpucnn", "ptxas", "usr", "bin", "ptxas");
        var found = new[] { Environment.GetEnvironmentVariable("GPUCNN_PTXAS"), cache }
            .FirstOrDefault(p => !string.IsNullOrEmpty(p) && File.Exists(p)) ?? OptionalRuntime.OnPath("ptxas");
        OptionalRuntime.Require("PTXAS", found is null ? "ptxas not found (run tools/fetch-ptxas.sh or set GPUCNN_PTXAS)" : null);
        return found!;
    }

    public static Result Assemble(string ptxas, string ptx, string sm)
    {
        string file = Path.Combine(Path.GetTempPath(), $"gpucnn-{Guid.NewGuid():N}.ptx");
        File.WriteAllText(file, ptx);
        try
        {
            var start = new ProcessStartInfo(ptxas, ["-arch=" + sm, "-v", "-o", "/dev/null", file])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd() + stderr.Result;
            process.WaitForExit();
            int registers = RegistersPattern().Matches(output).Select(m => int.Parse(m.Groups[1].Value)).DefaultIfEmpty(0).Max();
            int spills = SpillPattern().Matches(output).Sum(m => int.Parse(m.Groups[1].Value) + int.Parse(m.Groups[2].Value));
            return new Result(process.ExitCode, output, registers, spills);
        }
        finally
        {
            File.Delete(file);
        }
    }

    static readonly Lock reportLock = new();

    /// <summary>Appends "kernel | registers per target" to GPUCNN_PTXAS_REPORT when it is set.</summary>
    public static void Report(string kernel, IEnumerable<string> registers)
    {
        if (Environment.GetEnvironmentVariable("GPUCNN_PTXAS_REPORT") is not { Length: > 0 } file) return;
        lock (reportLock) File.AppendAllText(file, $"| `{kernel}` | {string.Join(" | ", registers)} |\n");
    }

    [GeneratedRegex(@"Used (\d+) registers")]
    private static partial Regex RegistersPattern();

    [GeneratedRegex(@"(\d+) bytes spill stores, (\d+) bytes spill loads")]
    private static partial Regex SpillPattern();
}
