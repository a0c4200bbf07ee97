using GpuCnn.Layers;
using GpuCnn.Models;
using GpuCnn.Training;

namespace GpuCnn.Tests.Api;

/// <summary>The library's Keras-like surface on a model the zoo does not have: compile, fit, evaluate, predict, save, load, fit again.</summary>
[Collection("devices")]
public sealed class ModelApiTests(TestDevices devices)
{
    static Sequential Small() => new("small", [28, 28, 1],
    [
        new Conv2D(16, 3, Activation.Relu),
        new MaxPool2D(2),
        new Flatten(),
        new Dense(32, Activation.Relu),
        new Dense(10),
    ]);

    [Fact]
    public void FitEvaluatePredictSaveLoadAndFitAgain()
    {
        var train = SyntheticData.Images(320, 5);
        var test = SyntheticData.Images(64, 6);
        string checkpoint = Path.Combine(SyntheticData.TempFolder(), "each-epoch.gpucnn");
        string saved = Path.Combine(SyntheticData.TempFolder(), "small.gpucnn");
        using var model = GpuCnn.Model.Compile(Small(), devices.Cpu, new Hyperparameters { BatchSize = 32, ValidationSplit = 0.2 });

        var history = model.Fit(train, epochs: 2, observers: model.CheckpointEachEpoch(checkpoint));
        Assert.Equal([1, 2], history.Select(m => m.Epoch));
        Assert.All(history, m => Assert.True(double.IsFinite(m.Loss) && double.IsFinite(m.ValLoss)));
        var evaluation = model.Evaluate(test);
        Assert.InRange(evaluation.Accuracy, 0, 1);
        var probabilities = model.Predict(test);
        Assert.Equal(64 * 10, probabilities.Length);
        for (int i = 0; i < 64; i++) Assert.Equal(1.0, probabilities.Skip(i * 10).Take(10).Sum(), 4);
        // The classes Predict ranks first are the ones Evaluate counted.
        Assert.Equal(evaluation.Predictions, model.PredictClasses(test));
        model.Save(saved);

        using var loaded = GpuCnn.Model.Load(saved, devices.Cpu);
        Assert.Equal(model.PredictClasses(test), loaded.PredictClasses(test));
        Assert.Equal(2, loaded.History.Count);
        Assert.Equal(3, loaded.Fit(train, epochs: 1).Count);

        using var fromCheckpoint = GpuCnn.Model.Load(checkpoint, devices.Cpu);
        Assert.Equal(2, fromCheckpoint.History.Count);
    }

    [Fact]
    public void ImagesOfAnotherSizeAreRefusedNamingBoth()
    {
        using var model = GpuCnn.Model.Compile(Small(), devices.Cpu, new Hyperparameters { BatchSize = 8 });
        var e = Assert.Throws<ArgumentException>(() => model.Predict(new GpuCnn.Data.ImageSet(new byte[2 * 400], new byte[2], 20, 20)));
        Messages.Says(e.Message, "images of 20x20x1, but model 'small' takes 28x28x1");
    }

    /// <summary>Keras's order: layers first, the input shape and class names from the data; tensors in, logits out.</summary>
    [Fact]
    public void ShapeAndClassesComeFromTheDataAndTensorsPredictToo()
    {
        var pictures = new GpuCnn.Data.ImageSet(TestData.Uniform(40 * 300, 2).Select(v => (byte)((v + 1) * 127)).ToArray(),
            [.. Enumerable.Range(0, 40).Select(i => (byte)(i % 3))], 10, 10, 3);
        var data = new GpuCnn.Data.ImageDataset(pictures, pictures.Take(9), ["a", "b", "c"], "test pictures");
        Layer[] Layers(int outputs) => [new Conv2D(8, 3, Activation.Relu), new Flatten(), new Dense(outputs)];
        using var model = GpuCnn.Model.Compile("colour", Layers(3), data, devices.Cpu, new Hyperparameters { BatchSize = 8 });
        Assert.Equal([10, 10, 3], model.Network.InputShape);
        Assert.Equal(["a", "b", "c"], model.ClassNames);
        model.Fit(data.Train, epochs: 1);

        var floats = data.Test.Pixels.Select(v => v * (1f / 255f)).ToArray();
        var logits = model.PredictLogits(floats);
        var probabilities = model.Predict(data.Test);
        for (int i = 0; i < 9; i++)
        {
            var row = logits.AsSpan(i * 3, 3).ToArray();
            double sum = row.Sum(v => Math.Exp(v - row.Max()));
            for (int c = 0; c < 3; c++) Assert.Equal(Math.Exp(row[c] - row.Max()) / sum, probabilities[i * 3 + c], 5);
        }
        var e = Assert.Throws<ArgumentException>(() => GpuCnn.Model.Compile("wrong", Layers(10), data, devices.Cpu));
        Messages.Says(e.Message, "model 'wrong' gives 10 outputs but test pictures has 3 classes; end with Dense(3).");
    }
}
