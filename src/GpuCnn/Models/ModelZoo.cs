using GpuCnn.Layers;

namespace GpuCnn.Models;

/// <summary>The models `--model` can name. Each takes 28×28×1 images and gives 10 logits.</summary>
public static class ModelZoo
{
    public static readonly int[] ImageShape = [28, 28, 1];
    public const int Classes = 10;

    public static IReadOnlyList<string> Names => ["seed"];

    public static Sequential Create(string name) => name switch
    {
        "seed" => Seed(),
        _ => throw new ArgumentException($"Unknown model '{name}'. Known models: {string.Join(", ", Names)}."),
    };

    /// <summary>The Keras Fashion-MNIST CNN this project reproduces (225,034 parameters).</summary>
    public static Sequential Seed() => new("seed", ImageShape,
    [
        new Conv2D(32, 3, Activation.Relu),
        new MaxPool2D(2),
        new Conv2D(64, 3, Activation.Relu),
        new MaxPool2D(2),
        new Dropout(0.25f),
        new Flatten(),
        new Dense(128, Activation.Relu),
        new Dropout(0.5f),
        new Dense(Classes),
    ]);
}
