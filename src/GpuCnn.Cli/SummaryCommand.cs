using System.CommandLine;
using GpuCnn.Devices;
using GpuCnn.Models;
using GpuCnn.Persistence;
using GpuCnn.Runs;

namespace GpuCnn.Cli;

/// <summary>`gpucnn summary [MODEL] [--model NAME] [--architecture FILE]`: the Keras-style layer table of a saved model, an architecture file or a zoo model.</summary>
public static class SummaryCommand
{
    public static Command Create()
    {
        var file = new Argument<string?>("model")
        {
            Description = "A .gpucnn model file, a run folder, or a zoo model's name (instead of --model).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var model = CommonOptions.Model();
        var architecture = new Option<string?>("--architecture")
        {
            Description = "A JSON architecture file, as train --architecture takes (instead of --model).",
        };
        var command = new Command("summary", "Print a model's layers, output shapes and parameter counts: a zoo model, a saved model or an architecture file.")
        {
            file, model, architecture,
        };
        command.Validators.Add(r =>
        {
            int given = (r.GetValue(file) is null ? 0 : 1) + (r.GetResult(architecture) is null ? 0 : 1) + (r.GetResult(model) is { Implicit: false } ? 1 : 0);
            if (given > 1) r.AddError("summary takes one model: a MODEL file or run folder, --model NAME or --architecture FILE.");
        });
        command.SetAction(parse => CliErrors.Run(() =>
        {
            using var device = ComputeDevice.Open(DeviceKind.Cpu);
            // A zoo name where no file or folder of that name exists: `gpucnn summary resnet20`.
            string? path = parse.GetValue(file);
            string? zooName = path is not null && !File.Exists(path) && !Directory.Exists(path) && ModelZoo.Names.Contains(path) ? path : null;
            using var built = zooName is not null ? ModelZoo.Create(zooName).Build(device, 1, 0)
                : path is not null ? ModelFile.Load(path, device, 1).Model
                : parse.GetValue(architecture) is { } json ? Sequential.FromArchitecture(RunSpec.ReadArchitecture(json)).Build(device, 1, 0)
                : ModelZoo.Create(parse.GetValue(model)!).Build(device, 1, 0);
            Console.Write(ModelSummary.Render(built));
            return 0;
        }));
        return command;
    }
}
