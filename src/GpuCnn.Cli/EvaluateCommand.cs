using GpuCnn.Persistence;
using System.CommandLine;
using GpuCnn.Data;
using GpuCnn.Devices;
using GpuCnn.Models;
using GpuCnn.Reporting;
using GpuCnn.Training;

namespace GpuCnn.Cli;

/// <summary>`gpucnn evaluate MODEL`: test accuracy, classification report and confusion matrix of a saved model.</summary>
public static class EvaluateCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "A .gpucnn model file or a run folder." };
        var device = CommonOptions.Device();
        var dataDir = CommonOptions.DataDir();
        var cacheDir = CommonOptions.CacheDir();
        var output = new Option<string?>("--output") { Description = "Folder for the confusion matrix, report and results (default: beside the model)." };
        var command = new Command("evaluate", "Evaluate a saved model on the test images of the data it was trained on (or of --data-dir).") { model, device, dataDir, cacheDir, output };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            using var accelerator = ComputeDevice.Open(CommonOptions.ParseDevice(parse.GetValue(device)!));
            using var loaded = GpuCnn.Model.Load(parse.GetValue(model)!, accelerator);
            var trainedOn = loaded.Options;
            // By default the data the model was trained on: its own folder of pictures, or Fashion-MNIST.
            var data = new FashionMnistStore(CommonOptions.Data(parse.GetValue(dataDir) ?? trainedOn.DataDir,
                parse.GetValue(cacheDir) ?? trainedOn.CacheDir, trainedOn)).Load();
            if (!data.Test.Shape.SequenceEqual(loaded.Network.InputShape) || data.Classes != loaded.Classes)
                throw new ArgumentException($"{data.Source} holds {data.Classes} classes of {string.Join("x", data.Test.Shape)} pictures, " +
                                            $"but model {loaded.Network.Name} takes {string.Join("x", loaded.Network.InputShape)} and {loaded.Classes} classes.");
            var test = loaded.Evaluate(data.Test);
            string folder = parse.GetValue(output) ?? Path.GetDirectoryName(Path.GetFullPath(ModelFile.Resolve(parse.GetValue(model)!)))!;
            var metrics = RunFolder.WriteEvaluation(folder, loaded.Network, test, loaded.ClassNames);
            Console.WriteLine($"Model {loaded.Network.Name} after {loaded.History.Count} epochs: test accuracy {test.Accuracy:P2}, test loss {test.Loss:F4} ({data.Test.Count} images)");
            Console.WriteLine();
            Console.Write(metrics.Report());
            Console.WriteLine($"Confusion matrix and report written to {folder}");
            return 0;
        }));
        return command;
    }
}
