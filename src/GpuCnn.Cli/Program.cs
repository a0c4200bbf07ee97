using System.CommandLine;
using GpuCnn.Cli;

var root = new RootCommand("gpucnn: train and evaluate convolutional networks on ILGPU kernels (CUDA, OpenCL or CPU).");
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(EvaluateCommand.Create());
root.Subcommands.Add(CompareCommand.Create());
root.Subcommands.Add(PredictCommand.Create());
root.Subcommands.Add(SummaryCommand.Create());
root.Subcommands.Add(ExportCommand.Create());
root.Subcommands.Add(DevicesCommand.Create());
root.Subcommands.Add(DataCommand.Create());
root.Subcommands.Add(PlotCommand.Create());
return root.Parse(args).Invoke();
