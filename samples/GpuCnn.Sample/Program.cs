// A custom model (not one of the zoo's) built, trained, saved, loaded, used and exported with
// the GpuCnn library, as a .NET developer would. Usage: dotnet run -- [--epochs N] [--limit N]
using GpuCnn;
using GpuCnn.Data;
using GpuCnn.Devices;
using GpuCnn.Layers;
using GpuCnn.Models;
using GpuCnn.Training;

int epochs = Option("--epochs", 3), limit = Option("--limit", 60_000);

// Fashion-MNIST, from the cache (fetched on first use).
var data = new FashionMnistStore(new DataOptions(), Console.WriteLine).Load();
var train = data.Train.Take(limit);

// Declare the layers; shapes are inferred from the 28×28×1 input.
var network = new Sequential("sample-net", [28, 28, 1],
[
    new Conv2D(24, 3, Activation.Relu, Padding.Same),
    new BatchNormalization(),
    new MaxPool2D(2),
    new ResidualBlock(48, stride: 2),
    new GlobalAvgPool2D(),
    new Dropout(0.2f),
    new Dense(10),
]);

using var device = ComputeDevice.Open(DeviceKind.Auto);
Console.WriteLine($"Device: {device.Info}");
using (var model = Model.Compile(network, device, new Hyperparameters { BatchSize = 128, LearningRate = 2e-3f, Seed = 7 }))
{
    foreach (var epoch in model.Fit(train, epochs, observers: model.CheckpointEachEpoch("sample-net.checkpoint.gpucnn")))
        Console.WriteLine($"epoch {epoch.Epoch}: loss {epoch.Loss:F4}, accuracy {epoch.Accuracy:P2}, validation accuracy {epoch.ValAccuracy:P2}");
    var test = model.Evaluate(data.Test);
    Console.WriteLine($"test accuracy {test.Accuracy:P2} on {data.Test.Count} images");
    model.Save("sample-net.gpucnn");
}

// Later, or in another program: load and predict.
using var loaded = Model.Load("sample-net.gpucnn", device);
var firstTen = data.Test.Take(10);
var classes = loaded.PredictClasses(firstTen);
for (int i = 0; i < classes.Length; i++)
    Console.WriteLine($"test image {i}: predicted {FashionMnist.ClassNames[classes[i]]}, labelled {FashionMnist.ClassNames[firstTen.Labels[i]]}");
loaded.ExportOnnx("sample-net.onnx");
Console.WriteLine("wrote sample-net.gpucnn and sample-net.onnx");

int Option(string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : fallback;
}
