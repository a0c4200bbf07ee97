using GpuCnn.Persistence;
using System.CommandLine;
using System.Text.Json;
using GpuCnn.Data;
using GpuCnn.Devices;
using GpuCnn.Layers;

namespace GpuCnn.Cli;

/// <summary>`gpucnn predict MODEL IMAGE...`: the top 3 classes of each picture.</summary>
public static class PredictCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "A .gpucnn model file or a run folder." };
        var images = new Argument<string[]>("images") { Description = "PNG or JPEG files, any size and colour.", Arity = ArgumentArity.OneOrMore };
        var json = new Option<bool>("--json") { Description = "Print machine-readable JSON." };
        var device = CommonOptions.Device();
        var command = new Command("predict", "Classify pictures with a saved model.") { model, images, json, device };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var paths = parse.GetValue(images)!;
            // A model trained on your own pictures reads them as training did (resized, grey or RGB) and names
            // its own classes; a Fashion-MNIST model fits each picture into a light-on-dark 28×28 frame.
            var header = Checkpoint.Load(ModelFile.Resolve(parse.GetValue(model)!)).Header;
            int[] shape = header.InputShape;
            var classNames = header.TrainedClassNames;
            Func<string, byte[]> read = header.ClassNames is null ? PictureConverter.Load : path => PictureReader.Read(path, shape[0], shape[1], shape[2]);
            var decoded = new List<(string Path, byte[] Pixels)>();
            int failures = 0;
            foreach (var path in paths)
            {
                try
                {
                    decoded.Add((path, read(path)));
                }
                catch (DataFileException e)
                {
                    Console.Error.WriteLine($"error: {e.Message}");
                    failures++;
                }
            }
            var results = new List<object>();
            if (decoded.Count > 0)
            {
                using var accelerator = ComputeDevice.Open(CommonOptions.ParseDevice(parse.GetValue(device)!));
                var (network, _) = ModelFile.Load(parse.GetValue(model)!, accelerator, decoded.Count);
                using var _network = network;
                var pixels = decoded.SelectMany(d => d.Pixels).ToArray();
                using var data = new DeviceDataset(accelerator, new ImageSet(pixels, new byte[decoded.Count], shape[0], shape[1], shape[2]));
                using var feeder = new Training.BatchFeeder(accelerator, data, Enumerable.Range(0, decoded.Count).ToArray(), decoded.Count);
                var logits = network.Forward(feeder.Gather(0, Training.Augmentation.None, 0), PassContext.Inference).ToArray();
                for (int i = 0; i < decoded.Count; i++)
                {
                    var probabilities = Softmax(logits.AsSpan(i * classNames.Count, classNames.Count));
                    var top = probabilities.Select((p, c) => (Class: c, P: p)).OrderByDescending(t => t.P).Take(3).ToList();
                    if (!parse.GetValue(json))
                        Console.WriteLine($"{decoded[i].Path}: " + string.Join(", ", top.Select(t => $"{classNames[t.Class]} {t.P:P1}")));
                    results.Add(new
                    {
                        file = decoded[i].Path,
                        top = top.Select(t => new { @class = t.Class, name = classNames[t.Class], probability = Math.Round(t.P, 6) }),
                    });
                }
            }
            if (parse.GetValue(json)) Console.WriteLine(JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
            return failures == 0 ? 0 : CliErrors.UserError;
        }));
        return command;
    }

    /// <summary>Probabilities from one image's logits (ten numbers read back once, after the kernels ran).</summary>
    static double[] Softmax(ReadOnlySpan<float> logits)
    {
        float max = float.NegativeInfinity;
        foreach (float v in logits) max = Math.Max(max, v);
        var e = new double[logits.Length];
        for (int i = 0; i < logits.Length; i++) e[i] = Math.Exp(logits[i] - max);
        double sum = e.Sum();
        return e.Select(v => v / sum).ToArray();
    }
}
