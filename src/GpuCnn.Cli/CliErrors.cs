using System.CommandLine;
using GpuCnn.Data;
using GpuCnn.Devices;
using GpuCnn.Tensors;
using GpuCnn.Training;

namespace GpuCnn.Cli;

/// <summary>Turns the errors a user can cause into one clear line on stderr and an exit code; no help dump, no stack traces.</summary>
public static class CliErrors
{
    public const int UserError = 2, Failure = 1;

    /// <summary>Parses and runs a command line: a parse or validation error is its first message on one line, exit code 2.</summary>
    public static int Parse(Command root, string[] args)
    {
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            Console.Error.WriteLine($"error: {parse.Errors[0].Message}");
            return UserError;
        }
        return parse.Invoke();
    }

    public static int Run(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is DataFileException or DeviceUnavailableException or DeviceOutOfMemoryException
                                      or TrainingDivergedException or ArgumentException or Persistence.CheckpointException
                                      or IO.FileWriteException or Mpi.MpiUnavailableException or Runs.RunException)
        {
            Console.Out.Flush();
            // The library names no flag; the command line says which of its own would help.
            string hint = e is DeviceUnavailableException ? " (gpucnn devices lists them; --device cpu always works)" : "";
            Console.Error.WriteLine($"{Label}: {e.Message}{hint}");
            return UserError;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("GPUCNN_DEBUG") is null)
        {
            Console.Out.Flush();
            Console.Error.WriteLine($"{Label}: {e.GetType().Name}: {e.Message} (set GPUCNN_DEBUG=1 for details)");
            return Failure;
        }
    }

    /// <summary>"error", or under mpiexec "error on rank R", so that a job's output says which rank failed.</summary>
    static string Label => Mpi.MpiSession.LaunchedSize() > 1 ? $"error on rank {Mpi.MpiSession.LaunchedRank()}" : "error";
}
