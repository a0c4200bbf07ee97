using System.CommandLine;
using GpuCnn.Devices;

namespace GpuCnn.Cli;

/// <summary>`gpucnn devices`: what ILGPU finds on this machine.</summary>
public static class DevicesCommand
{
    public static Command Create()
    {
        var command = new Command("devices", "List the accelerators ILGPU finds (name, kind, memory, warp size, compute capability, launch plan).");
        command.SetAction(_ => CliErrors.Run(() =>
        {
            var devices = ComputeDevice.ListDevices();
            Console.WriteLine($"{"kind",-7} {"name",-40} {"memory",10} {"warp",5} {"group",6} {"units",6} {"compute",8}  plan");
            foreach (var d in devices)
                Console.WriteLine($"{d.KindName,-7} {Truncate(d.Name, 40),-40} {d.MemoryBytes / 1048576.0,7:F0} MiB {d.WarpSize,5} " +
                                  $"{d.MaxThreadsPerGroup,6} {d.Multiprocessors,6} {d.ComputeCapability,8}  {(d.Missing is null ? d.Plan : "unusable")}");
            foreach (var d in devices.Where(d => d.Missing is not null))
                Console.WriteLine($"{d.KindName} {d.Name}: GpuCnn cannot use it: it lacks {d.Missing}.");
            return 0;
        }));
        return command;
    }

    static string Truncate(string text, int width) => text.Length <= width ? text : text[..(width - 1)] + "…";
}
