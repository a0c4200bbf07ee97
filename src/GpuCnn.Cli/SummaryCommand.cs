using System.CommandLine;
using GpuCnn.Devices;
using GpuCnn.Models;

namespace GpuCnn.Cli;

/// <summary>`gpucnn summary --model NAME`: the Keras-style layer table.</summary>
public static class SummaryCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var command = new Command("summary", "Print a model's layers, output shapes and parameter counts.") { model };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            using var device = ComputeDevice.Open(DeviceKind.Cpu);
            using var built = ModelZoo.Create(parse.GetValue(model)!).Build(device, 1, 0);
            Console.Write(ModelSummary.Render(built));
            return 0;
        }));
        return command;
    }
}
