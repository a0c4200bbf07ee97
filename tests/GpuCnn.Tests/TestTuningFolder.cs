using System.Runtime.CompilerServices;

namespace GpuCnn.Tests;

/// <summary>
/// The tests' register-tile choices go to a folder of their own ($GPUCNN_TUNING, unless the run
/// names one), kept between runs, not to the user's: the tests' small shapes would otherwise be
/// measured into the file that the user's training reads.
/// </summary>
static class TestTuningFolder
{
    public static readonly string Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "gpucnn-tests", "tuning");

    [ModuleInitializer]
    internal static void Install()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("GPUCNN_TUNING")))
            Environment.SetEnvironmentVariable("GPUCNN_TUNING", Path);
    }
}
