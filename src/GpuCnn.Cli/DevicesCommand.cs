using System.CommandLine;
using GpuCnn.Devices;

namespace GpuCnn.Cli;

/// <summary>`gpucnn devices`: what ILGPU finds on this machine.</summary>
public static class DevicesCommand
{
    public static Command Create()
    {
        var command = new Command("devices", "List the accelerators ILGPU finds (name, kind, memory, warp size, compute capability).");
        command.SetAction(_ => CliErrors.Run(() =>
        {
            Console.WriteLine($"{"kind",-7} {"name",-40} {"memory",10} {"warp",5} {"group",6} {"units",6} {"compute",8}");
            foreach (var d in ComputeDevice.ListDevices())
                Console.WriteLine($"{d.KindName,-7} {Truncate(d.Name, 40),-40} {d.MemoryBytes / 1048576.0,7:F0} MiB {d.WarpSize,5} " +
                                  $"{d.MaxThreadsPerGroup,6} {d.Multiprocessors,6} {d.ComputeCapability,8}");
            return 0;
        }));
        return command;
    }

    static string Truncate(string text, int width) => text.Length <= width ? text : text[..(width - 1)] + "…";
}
