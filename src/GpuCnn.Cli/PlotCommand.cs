using System.CommandLine;
using GpuCnn.Data;
using GpuCnn.Persistence;
using GpuCnn.Runs;

namespace GpuCnn.Cli;

/// <summary>`gpucnn plot RUN_DIR...`: draws run folders' training curves and confusion matrices again from their files.</summary>
public static class PlotCommand
{
    public static Command Create()
    {
        var runs = new Argument<string[]>("RUN_DIR") { Description = "Run folders (as train writes them).", Arity = ArgumentArity.OneOrMore };
        var command = new Command("plot", "Draw a run's training curves and confusion matrix again from its metrics.json and test_results.json (e.g. after installing fonts).")
        {
            runs,
        };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            foreach (var run in parse.GetValue(runs)!)
            {
                if (!File.Exists(Path.Combine(run, RunFiles.MetricsJson)))
                    throw new DataFileException(run, $"not a run folder: it has no {RunFiles.MetricsJson}");
                RunFolder.Redraw(run);
                Console.WriteLine($"Redrew the plots of {run}");
            }
            return 0;
        }));
        return command;
    }
}
