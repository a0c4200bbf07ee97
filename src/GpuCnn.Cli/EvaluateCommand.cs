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
            const int Batch = 256;
            using var accelerator = ComputeDevice.Open(CommonOptions.ParseDevice(parse.GetValue(device)!));
            var (network, header) = ModelFile.Load(parse.GetValue(model)!, accelerator, Batch);
            using var _ = network;
            // By default the data the model was trained on: its own folder of pictures, or Fashion-MNIST.
            var data = new FashionMnistStore(CommonOptions.Data(parse.GetValue(dataDir) ?? header.Options.DataDir,
                parse.GetValue(cacheDir) ?? header.Options.CacheDir, header.Options)).Load();
            if (!data.Test.Shape.SequenceEqual(network.InputShape) || data.Classes != header.TrainedClassNames.Count)
                throw new ArgumentException($"{data.Source} holds {data.Classes} classes of {string.Join("x", data.Test.Shape)} pictures, " +
                                            $"but model {header.Model} takes {string.Join("x", network.InputShape)} and {header.TrainedClassNames.Count} classes.");
            using var testData = new DeviceDataset(accelerator, data.Test);
            using var feeder = new BatchFeeder(accelerator, testData, Enumerable.Range(0, data.Test.Count).ToArray(), Batch);
            using var loss = new SoftmaxCrossEntropy(accelerator, Batch, header.TrainedClassNames.Count);
            var test = Evaluator.Evaluate(network, feeder, loss);
            string folder = parse.GetValue(output) ?? Path.GetDirectoryName(Path.GetFullPath(ModelFile.Resolve(parse.GetValue(model)!)))!;
            var metrics = RunFolder.WriteEvaluation(folder, header.Model, test, header.TrainedClassNames);
            Console.WriteLine($"Model {header.Model} after {header.History.Count} epochs: test accuracy {test.Accuracy:P2}, test loss {test.Loss:F4} ({data.Test.Count} images)");
            Console.WriteLine();
            Console.Write(metrics.Report());
            Console.WriteLine($"Confusion matrix and report written to {folder}");
            return 0;
        }));
        return command;
    }
}
