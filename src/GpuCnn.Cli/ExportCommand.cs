using GpuCnn.Persistence;
using System.CommandLine;
using GpuCnn.Devices;
using GpuCnn.Export;

namespace GpuCnn.Cli;

/// <summary>`gpucnn export MODEL --onnx FILE`: a trained model as an ONNX file for ONNX Runtime or ML.NET.</summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "A .gpucnn model or checkpoint, or a run folder (its final model)." };
        var onnx = new Option<string>("--onnx") { Description = "The ONNX file to write (input: N×28×28×1 NHWC floats in [0, 1]; output: logits).", Required = true };
        var command = new Command("export", "Write a trained model as an ONNX file.") { model, onnx };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            using var device = ComputeDevice.Open(DeviceKind.Cpu);
            var (network, _) = ModelFile.Load(parse.GetValue(model)!, device, 1);
            using (network)
            {
                string file = parse.GetValue(onnx)!;
                OnnxExport.Save(network, file);
                Console.WriteLine($"Wrote {file}: model '{network.Name}', ONNX opset {OnnxExport.Opset}; input \"input\" (N×{string.Join("×", network.InputShape)}, NHWC, pixels / 255), output \"logits\" (N×{network.OutputShape[^1]}).");
            }
            return 0;
        }));
        return command;
    }
}
