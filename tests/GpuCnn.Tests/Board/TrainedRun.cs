using GpuCnn.Tests.Cli;

namespace GpuCnn.Tests.Board;

/// <summary>
/// A real run folder, written by `gpucnn train` on the CPU accelerator (2 epochs of 96 made-up
/// pictures, a few seconds), so the board is tested on the files training writes, not on copies
/// of their format. Shared by a test class; its tests only read it or copy it.
/// </summary>
public sealed class TrainedRun
{
    public string Folder { get; }

    public TrainedRun()
    {
        Folder = Path.Combine(SyntheticData.TempFolder(), "tiny");
        var r = CliRunner.Run(Arguments(SyntheticData.WriteFolder(96, 32), Folder, epochs: 2));
        Assert.True(r.ExitCode == 0, r.Error);
    }

    /// <summary>`gpucnn train` of the seed model on the CPU device with a data folder, batches of 32, into <paramref name="runDir"/>.</summary>
    public static string[] Arguments(string data, string runDir, int epochs) =>
        ["train", "--device", "cpu", "--data-dir", data, "--epochs", epochs.ToString(), "--batch-size", "32", "--run-dir", runDir];

    /// <summary>A copy of the run folder at <paramref name="target"/>.</summary>
    public void CopyTo(string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(Folder))
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
    }
}
