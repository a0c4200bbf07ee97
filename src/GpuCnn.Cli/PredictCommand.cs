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
        var tta = new Option<bool>("--tta") { Description = "Test-time augmentation: the mean of the logits of each picture and its mirror (runs trained with --tta use it anyway)." };
        var invert = CommonOptions.OneOf("--invert",
            "Fashion-MNIST models take light things on black: auto inverts a picture whose border is light (a product photo on white), always and never decide for every picture. " +
            "Models trained on your own pictures take them as they are unless always.",
            "auto", ["auto", "always", "never"]);
        var command = new Command("predict", "Classify pictures with a saved model.") { model, images, json, device, tta, invert };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var paths = parse.GetValue(images)!;
            var inversion = Enum.Parse<PictureInversion>(parse.GetValue(invert)!, ignoreCase: true);
            using var accelerator = ComputeDevice.Open(CommonOptions.ParseDevice(parse.GetValue(device)!));
            // The library reads each picture as the model's training data was, and names its classes.
            using var loaded = GpuCnn.Model.Load(parse.GetValue(model)!, accelerator);
            var decoded = new List<(string Path, byte[] Pixels)>();
            int failures = 0;
            foreach (var path in paths)
            {
                try
                {
                    decoded.Add((path, loaded.ReadPicture(path, inversion)));
                }
                catch (DataFileException e)
                {
                    Console.Error.WriteLine($"error: {e.Message}");
                    failures++;
                }
            }
            var results = new List<object>();
            var probabilities = decoded.Count > 0 ? loaded.Predict(loaded.Pictures([.. decoded.Select(d => d.Pixels)]), parse.GetValue(tta) ? true : null) : [];
            int classes = loaded.Classes;
            for (int i = 0; i < decoded.Count; i++)
            {
                var top = probabilities.Skip(i * classes).Take(classes).Select((p, c) => (Class: c, P: p)).OrderByDescending(t => t.P).Take(3).ToList();
                if (!parse.GetValue(json))
                    Console.WriteLine($"{decoded[i].Path}: " + string.Join(", ", top.Select(t => $"{loaded.ClassNames[t.Class]} {t.P:P1}")));
                results.Add(new
                {
                    file = decoded[i].Path,
                    top = top.Select(t => new { @class = t.Class, name = loaded.ClassNames[t.Class], probability = Math.Round(t.P, 6) }),
                });
            }
            if (parse.GetValue(json)) Console.WriteLine(JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
            return failures == 0 ? 0 : CliErrors.UserError;
        }));
        return command;
    }
}
