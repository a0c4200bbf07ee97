using System.CommandLine;
using GpuCnn.Models;
using GpuCnn.Reporting;
using GpuCnn.Training;

namespace GpuCnn.Cli;

/// <summary>`gpucnn compare`: the models side by side under one training budget, over one or more seeds.</summary>
public static class CompareCommand
{
    /// <summary>compare's budget: shorter than train's, with PreciseBN for the models that have batch norm.</summary>
    public static readonly TrainingOptions Defaults = new() { Epochs = 5, TrainLimit = 20000, BatchNormRecalibration = 100 };

    public static Command Create()
    {
        var models = new Option<string[]>("--models")
        {
            Description = "Models to compare.", DefaultValueFactory = _ => [.. ModelZoo.Names], AllowMultipleArgumentsPerToken = true,
        }.AcceptOnlyFromAmong([.. ModelZoo.Names]);
        var shared = new TrainingOptionSet(Defaults);
        var seeds = new Option<int[]>("--seeds")
        {
            Description = "Train every model once per seed; the table gives mean ± standard deviation and each seed's result.",
            DefaultValueFactory = _ => [42], AllowMultipleArgumentsPerToken = true,
        };
        seeds.Validators.Add(r =>
        {
            var values = r.GetValueOrDefault<int[]>() ?? [];
            if (values.Length == 0 || values.Distinct().Count() != values.Length) r.AddError("--seeds takes one or more different seeds.");
        });
        var device = CommonOptions.Device();
        var dataDir = CommonOptions.DataDir();
        var cacheDir = CommonOptions.CacheDir();
        var runDir = new Option<string?>("--run-dir") { Description = "Folder for the comparison (default runs/<time>-compare)." };
        var resume = new Option<string?>("--resume")
        {
            Description = "Continue the campaign in this folder: finished runs are kept, an interrupted one resumes from its checkpoint, the rest run.",
        };
        var command = new Command("compare", "Train several models with the same budget, over one or more seeds, and compare them side by side.")
        {
            models, seeds, device, dataDir, cacheDir, runDir, resume,
        };
        foreach (var option in shared.All) command.Options.Add(option);
        command.Validators.Add(r =>
        {
            if (GpuCnn.Distributed.MpiSession.LaunchedSize() > 1)
                r.AddError("compare runs in one process; under mpiexec, train each model with `gpucnn train` instead.");
            if (r.GetResult(resume) is not null && r.GetResult(runDir) is not null)
                r.AddError("--resume continues the campaign in its own folder: do not pass --run-dir with it.");
            if (r.GetValue(runDir) is { } dir && RunFolder.RefuseExisting(dir, resumable: false) is { } problem)
                r.AddError(problem + $" or continue it with: gpucnn compare --resume {dir}.");
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
                var budget = shared.Read(parse, Defaults) with
                {
                    DataDir = parse.GetValue(dataDir) is { } d ? Path.GetFullPath(d) : null,
                    CacheDir = parse.GetValue(cacheDir) is { } c ? Path.GetFullPath(c) : null,
                };
                plan = new CampaignPlan(parse.GetValue(models)!, parse.GetValue(seeds)!, budget,
                    "gpucnn " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)));
            }
            new Comparison(plan, kind, CommonOptions.Data(plan.Budget.DataDir, plan.Budget.CacheDir), Console.Out, folder).Run();
            return 0;
        }));
        return command;
    }
}
