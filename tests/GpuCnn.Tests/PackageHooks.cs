using System.Runtime.CompilerServices;
using GpuCnn.Data;
using GpuCnn.Pictures;
using GpuCnn.Plots;
using GpuCnn.Reporting;

namespace GpuCnn.Tests;

/// <summary>The tests call the library in-process as the command line runs it: with its plot writer and picture decoder plugged in.</summary>
static class PackageHooks
{
    [ModuleInitializer]
    internal static void Install()
    {
        Plotting.Writer = new ScottPlotWriter();
        PictureFiles.Decoder = new SkiaPictureDecoder();
    }
}
