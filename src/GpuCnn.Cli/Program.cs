using System.CommandLine;
using System.CommandLine.Help;
using GpuCnn.Cli;

// The root is named gpucnn, whatever the program file is called (GpuCnn.Cli.dll under dotnet run).
var root = new Command("gpucnn", "Train and evaluate convolutional networks on ILGPU kernels (CUDA, OpenCL or CPU).")
{
    new HelpOption(),
    new VersionOption(),
    TrainCommand.Create(),
    EvaluateCommand.Create(),
    CompareCommand.Create(),
    PredictCommand.Create(),
    SummaryCommand.Create(),
    ExportCommand.Create(),
    DevicesCommand.Create(),
    DataCommand.Create(),
    PlotCommand.Create(),
};
// The core library draws no plots and decodes no pictures itself: these packages do.
GpuCnn.Reporting.Plotting.Writer = new GpuCnn.Plots.ScottPlotWriter(message => Console.Error.WriteLine($"warning: {message} (gpucnn plot RUN_DIR redraws them)"));
GpuCnn.Data.PictureFiles.Decoder = new GpuCnn.Pictures.SkiaPictureDecoder();
// Bare `gpucnn` shows what it can do.
return CliErrors.Parse(root, args.Length == 0 ? ["--help"] : args);
