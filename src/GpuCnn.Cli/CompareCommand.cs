using System.CommandLine;
using GpuCnn.Models;
using GpuCnn.Reporting;
using GpuCnn.Training;

namespace GpuCnn.Cli;

/// <summary>`gpucnn compare`: the models side by side under one training budget.</summary>
public static class CompareCommand
{
    public static Command Create()
    {
        var models = new Option<string[]>("--models")
        {
            Description = "Models to compare.", DefaultValueFactory = _ => [.. ModelZoo.Names], AllowMultipleArgumentsPerToken = true,
        }.AcceptOnlyFromAmong([.. ModelZoo.Names]);
        var epochs = CommonOptions.AtLeast("--epochs", "Epochs for every model.", 5, 1);
        var trainLimit = CommonOptions.AtLeast("--train-limit", "Use the first N training images for every model.", 20000, 2);
        var batchSize = CommonOptions.AtLeast("--batch-size", "Images per mini-batch.", 128, 1);
        var seed = new Option<int>("--seed") { Description = "Seed for every model.", DefaultValueFactory = _ => 42 };
        var device = CommonOptions.Device();
        var dataDir = CommonOptions.DataDir();
        var cacheDir = CommonOptions.CacheDir();
        var runDir = new Option<string?>("--run-dir") { Description = "Folder for the comparison (default runs/<time>-compare)." };
        var command = new Command("compare", "Train several models with the same budget and compare them side by side.")
        {
            models, epochs, trainLimit, batchSize, seed, device, dataDir, cacheDir, runDir,
        };
        command.Validators.Add(r =>
        {
            if (r.GetValue(runDir) is { } dir && RunFolder.RefuseExisting(dir, resumable: false) is { } problem) r.AddError(problem + ".");
        });
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var budget = new TrainingOptions
            {
                Epochs = parse.GetValue(epochs), TrainLimit = parse.GetValue(trainLimit),
                BatchSize = parse.GetValue(batchSize), Seed = parse.GetValue(seed),
            };
            string folder = parse.GetValue(runDir) ?? Path.Combine("runs", $"{DateTime.Now:yyyyMMdd-HHmmss}-compare");
            Directory.CreateDirectory(folder);
            new Comparison(parse.GetValue(models)!, budget, CommonOptions.ParseDevice(parse.GetValue(device)!),
                CommonOptions.Data(parse.GetValue(dataDir), parse.GetValue(cacheDir)), Console.Out, folder,
                "gpucnn " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1))).Run();
            return 0;
        }));
        return command;
    }
}
