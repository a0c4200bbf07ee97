using System.CommandLine;
using System.Net;
using GpuCnn.Board;

namespace GpuCnn.Cli;

/// <summary>`gpucnn board [RUNS_DIR]`: a local, read-only web view of the runs in a folder, live while they train.</summary>
public static class BoardCommand
{
    /// <summary>TensorBoard's port is 6006; the board takes the next, so both can run side by side.</summary>
    public const int DefaultPort = 6007;

    public static Command Create()
    {
        var runs = new Argument<string>("RUNS_DIR")
        {
            Description = "The folder of runs (train writes under runs/ by default); runs in its subfolders (compare's campaigns) are shown too.",
            Arity = ArgumentArity.ZeroOrOne,
            DefaultValueFactory = _ => "runs",
        };
        var host = new Option<IPAddress>("--host")
        {
            Description = "The address to listen on: 127.0.0.1 (default: this machine only), ::1, or 0.0.0.0 to let other machines see the runs.",
            DefaultValueFactory = _ => IPAddress.Loopback,
            CustomParser = r =>
            {
                string text = r.Tokens.Count > 0 ? r.Tokens[^1].Value : "";
                if (text == "localhost") return IPAddress.Loopback;
                if (IPAddress.TryParse(text, out var address)) return address;
                r.AddError($"--host must be an IP address (e.g. 127.0.0.1, ::1 or 0.0.0.0) or localhost, got '{text}'.");
                return IPAddress.Loopback;
            },
        };
        var port = CommonOptions.Int("--port", $"The port (default {DefaultPort}); 0 takes any free port.", DefaultPort, 0, 65535);
        var command = new Command("board", "Serve a web view of the runs in RUNS_DIR: their curves (live while they train), side by side, and each run's confusion matrix, report and settings. Read-only.")
        {
            runs, host, port,
        };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var folder = new RunsDirectory(parse.GetValue(runs)!);
            var board = BoardServer.StartAsync(folder, parse.GetValue(host)!, parse.GetValue(port)).GetAwaiter().GetResult();
            Console.WriteLine($"GpuCnn board: {board.Url} shows the runs in {folder.Root} (Ctrl+C stops it)");
            board.WaitForShutdownAsync().GetAwaiter().GetResult();
            board.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return 0;
        }));
        return command;
    }
}
