using GpuCnn.Persistence;
using System.CommandLine;
using GpuCnn.Devices;
using GpuCnn.Export;

namespace GpuCnn.Cli;

/// <summary>
/// `gpucnn export MODEL --onnx FILE`: a trained model as an ONNX file for ONNX Runtime or ML.NET;
/// `--gpucnn FILE`: the model without its optimizer state (a third of an Adam checkpoint), as
/// docs/results keeps its models.
/// </summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "A .gpucnn model or checkpoint, or a run folder (its final model)." };
        var onnx = new Option<string>("--onnx") { Description = "The ONNX file to write (input: N×28×28×1 NHWC floats in [0, 1]; output: logits)." };
        var weights = new Option<string>("--gpucnn") { Description = "A .gpucnn file to write without the optimizer state: it evaluates, predicts and exports as the model; training it further starts a fresh optimizer." };
        var command = new Command("export", "Write a trained model as an ONNX file, or as a .gpucnn file without its optimizer state.") { model, onnx, weights };
        command.Validators.Add(r =>
        {
            if (r.GetResult(onnx) is null && r.GetResult(weights) is null)
                r.AddError("export needs --onnx FILE or --gpucnn FILE (or both).");
        });
        command.SetAction(parse => CliErrors.Run(() =>
        {
            string source = parse.GetValue(model)!;
            if (parse.GetValue(onnx) is { } file)
            {
                using var device = ComputeDevice.Open(DeviceKind.Cpu);
                var (network, _) = ModelFile.Load(source, device, 1);
                using (network)
                {
                    OnnxExport.Save(network, file);
                    Console.WriteLine($"Wrote {file}: model '{network.Name}', ONNX opset {OnnxExport.Opset}; input \"input\" (N×{string.Join("×", network.InputShape)}, NHWC, pixels / 255), output \"logits\" (N×{network.OutputShape[^1]}).");
                }
            }
            if (parse.GetValue(weights) is { } target)
            {
                ModelFile.SaveWeights(source, target);
                Console.WriteLine($"Wrote {target}: the model of {ModelFile.Resolve(source)} without its optimizer state ({new FileInfo(target).Length / 1024} KiB).");
            }
            return 0;
        }));
        return command;
    }
}
