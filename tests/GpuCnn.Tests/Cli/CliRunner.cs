using System.Diagnostics;

namespace GpuCnn.Tests.Cli;

/// <summary>Runs the real `gpucnn` program (the CLI assembly beside the tests) as a user would.</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static Result Run(params string[] args) => Run(null, args);

    /// <summary>How to start the program with these arguments, in a fresh working folder, output captured.</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = SyntheticData.TempFolder(),
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "GpuCnn.Cli.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        return start;
    }

    public static Result Run(IDictionary<string, string>? environment, params string[] args)
    {
        using var process = Process.Start(StartInfo(args, environment))!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5))) process.Kill(entireProcessTree: true);
        return new Result(process.ExitCode, output, error.Result);
    }
}
