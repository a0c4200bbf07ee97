using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using GpuCnn.Tests.Cli;

namespace GpuCnn.Tests.Board;

/// <summary>`gpucnn board` as a user starts it: the address it prints works, and every bad input is one line with exit code 2.</summary>
public sealed class BoardCommandTests
{
    [Theory]
    [InlineData("error: /nonexistent-runs: no such folder of runs", "board", "/nonexistent-runs")]
    [InlineData("error: --port must be a whole number from 0 to 65535, got '70000'.", "board", ".", "--port", "70000")]
    [InlineData("error: --port must be a whole number from 0 to 65535, got 'http'.", "board", ".", "--port", "http")]
    [InlineData("error: --host must be an IP address (e.g. 127.0.0.1, ::1 or 0.0.0.0) or localhost, got 'example.com'.", "board", "--host", "example.com")]
    public void BadInputIsOneLineAndExitCode2(string message, params string[] args)
    {
        var r = CliRunner.Run(args);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal(message, r.Error.Trim());
        Assert.Equal("", r.Output);
    }

    [Fact]
    public void APortInUseIsOneLineAndExitCode2()
    {
        var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        try
        {
            int port = ((IPEndPoint)taken.LocalEndpoint).Port;
            var r = CliRunner.Run("board", ".", "--port", port.ToString());
            Assert.Equal(2, r.ExitCode);
            Assert.Matches($@"^error: cannot listen on 127\.0\.0\.1:{port}: .+ \(--port 0 takes any free port\)$", r.Error.Trim());
            Assert.Equal("", r.Output);
        }
        finally
        {
            taken.Stop();
        }
    }

    [Fact]
    public void WithPortZeroItPrintsTheAddressItTookAndServesThere()
    {
        string runs = SyntheticData.TempFolder();
        using var process = Process.Start(CliRunner.StartInfo(["board", runs, "--port", "0"]))!;
        try
        {
            var line = process.StandardOutput.ReadLineAsync();
            Assert.True(line.Wait(TimeSpan.FromMinutes(1)), "the board printed nothing within a minute");
            var url = Regex.Match(line.Result ?? "", @"http://127\.0\.0\.1:(\d+)/");
            Assert.True(url.Success, line.Result);
            Assert.NotEqual("0", url.Groups[1].Value);
            using var http = new HttpClient();
            Assert.Contains($"\"root\":{System.Text.Json.JsonSerializer.Serialize(runs)}", http.GetStringAsync(url.Value + "api/runs").Result);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
    }
}
