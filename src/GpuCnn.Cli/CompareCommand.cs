using System.CommandLine;
using GpuCnn.Data;
using GpuCnn.Models;
using GpuCnn.Runs;
using GpuCnn.Training;

namespace GpuCnn.Cli;

/// <summary>`gpucnn compare`: the models side by side under one training budget, over one or more seeds.</summary>
public static class CompareCommand
{
    /// <summary>compare's budget: shorter than train's, with PreciseBN for the models that have batch norm, on the first 20,000 images.</summary>
    public static readonly Hyperparameters Defaults = new() { Epochs = 5, BatchNormRecalibration = 100 };
    public const int DefaultTrainLimit = 20000;

    public static Command Create()
    {
        var models = CommonOptions.SomeOf("--models", "Models to compare.", ModelZoo.Names);
        var shared = new TrainingOptionSet(Defaults, DefaultTrainLimit);
        var seeds = new Option<int[]>("--seeds")
        {
            Description = "Train every model once per seed; the table gives mean ± standard deviation and each seed's result.",
            DefaultValueFactory = _ => [42],
            AllowMultipleArgumentsPerToken = true,
            CustomParser = r =>
            {
                var values = new List<int>();
                foreach (var token in r.Tokens)
                {
                    if (int.TryParse(token.Value, System.Globalization.CultureInfo.InvariantCulture, out int v)) values.Add(v);
                    else r.AddError($"--seeds takes whole numbers, got '{token.Value}'.");
                }
                if (values.Count == 0 || values.Distinct().Count() != values.Count) r.AddError("--seeds takes one or more different seeds.");
                return [.. values];
            },
        };
        var device = CommonOptions.Device();
        var dataDir = CommonOptions.DataDir();
        var cacheDir = CommonOptions.CacheDir();
        var runDir = new Option<string?>("--run-dir") { Description = "Folder for the comparison (default runs/<time>-compare)." };
        var resume = new Option<string?>("--resume")
        {
            Description = "Continue the campaign in this folder: finished runs are kept, an interrupted one resumes from its checkpoint, the rest run.",
        };
        var tensorBoard = CommonOptions.TensorBoard("each run's folder; with it, DIR/MODEL/seed-S");
        var command = new Command("compare", "Train several models with the same budget, over one or more seeds, and compare them side by side.")
        {
            models, seeds, device, dataDir, cacheDir, runDir, resume, tensorBoard,
        };
        foreach (var option in shared.All) command.Options.Add(option);
        command.Validators.Add(r =>
        {
            if (GpuCnn.Mpi.MpiSession.LaunchedSize() > 1)
                r.AddError("compare runs in one process; under mpiexec, train each model with `gpucnn train` instead.");
            if (r.GetResult(resume) is not null && r.GetResult(runDir) is not null)
                r.AddError("--resume continues the campaign in its own folder: do not pass --run-dir with it.");
            if (r.GetValue(runDir) is { } dir && Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any())
                r.AddError($"--run-dir {dir} already exists; choose another folder or continue it with: gpucnn compare --resume {dir}.");
            if (r.GetValue(resume) is { } from && !File.Exists(Path.Combine(from, CampaignPlan.FileName)))
                r.AddError($"--resume {from}: no {CampaignPlan.FileName} there to continue.");
        });
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var kind = CommonOptions.ParseDevice(parse.GetValue(device)!);
            string folder;
            CampaignPlan plan;
            if (parse.GetValue(resume) is { } from)
            {
                folder = from;
                plan = CampaignPlan.Load(from);
                Console.WriteLine($"Continuing {from}: {string.Join(", ", plan.Models)} with seeds {string.Join(", ", plan.Seeds)}.");
            }
            else
            {
                folder = parse.GetValue(runDir) ?? Path.Combine("runs", $"{DateTime.Now:yyyyMMdd-HHmmss}-compare");
                var data = new DataSpec
                {
                    DataDir = CommonOptions.FullPath(parse.GetValue(dataDir)),
                    CacheDir = CommonOptions.FullPath(parse.GetValue(cacheDir)),
                    TrainLimit = shared.TrainLimit(parse, DefaultTrainLimit),
                };
                plan = new CampaignPlan(parse.GetValue(models)!, parse.GetValue(seeds)!, shared.Read(parse, Defaults), data, CommonOptions.CommandLine());
            }
            new Comparison(plan, kind, Console.Out, folder, parse.GetValue(tensorBoard)).Run();
            return 0;
        }));
        return command;
    }
}
