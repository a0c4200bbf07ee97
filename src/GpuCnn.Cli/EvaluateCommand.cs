using System.CommandLine;
using GpuCnn.Runs;

namespace GpuCnn.Cli;

/// <summary>`gpucnn evaluate MODEL`: test accuracy, classification report and confusion matrix of a saved model; the run it reads is never changed.</summary>
public static class EvaluateCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "A .gpucnn model file or a run folder." };
        var device = CommonOptions.Device();
        var dataDir = CommonOptions.DataDir();
        var cacheDir = CommonOptions.CacheDir();
        var output = new Option<string?>("--output")
        {
            Description = $"A folder of its own for the confusion matrix, report and {ModelEvaluation.ResultsFile} (default: print only; never a run folder).",
        };
        var tta = new Option<bool>("--tta") { Description = "Test-time augmentation: the mean of the logits of each image and its mirror (runs trained with --tta use it anyway)." };
        var command = new Command("evaluate", "Evaluate a saved model on the test images of the data it was trained on (or of --data-dir).") { model, device, dataDir, cacheDir, output, tta };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            ModelEvaluation.Run(parse.GetValue(model)!, CommonOptions.ParseDevice(parse.GetValue(device)!), CommonOptions.FullPath(parse.GetValue(dataDir)),
                CommonOptions.FullPath(parse.GetValue(cacheDir)), parse.GetValue(output), Console.Out, parse.GetValue(tta) ? true : null,
                liveProgress: !Console.IsOutputRedirected);
            return 0;
        }));
        return command;
    }
}
