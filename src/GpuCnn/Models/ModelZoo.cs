using GpuCnn.Layers;

namespace GpuCnn.Models;

/// <summary>
/// The models `--model` can name. Each takes Fashion-MNIST's 28×28×1 images and gives 10 logits
/// unless told another input shape and class count (your own pictures); a shape a model cannot
/// take is refused when it is built, naming the layer.
/// </summary>
public static class ModelZoo
{
    public static readonly int[] ImageShape = [28, 28, 1];
    public const int Classes = 10;

    public static IReadOnlyList<string> Names => ["seed", "seed-bn", "resnet", "resnet20", "resnet32"];

    public static Sequential Create(string name, int[]? inputShape = null, int classes = Classes) => name switch
    {
        "seed" => Seed(inputShape, classes),
        "seed-bn" => SeedWithBatchNorm(inputShape, classes),
        "resnet" => ResNet(inputShape, classes),
        "resnet20" => HeResNet("resnet20", 3, inputShape, classes),
        "resnet32" => HeResNet("resnet32", 5, inputShape, classes),
        _ => throw new ArgumentException($"Unknown model '{name}'. Known models: {string.Join(", ", Names)}."),
    };

    /// <summary>The Keras Fashion-MNIST CNN this project reproduces (225,034 parameters).</summary>
    public static Sequential Seed(int[]? inputShape = null, int classes = Classes) => new("seed", inputShape ?? ImageShape,
    [
        new Conv2D(32, 3, Activation.Relu),
        new MaxPool2D(2),
        new Conv2D(64, 3, Activation.Relu),
        new MaxPool2D(2),
        new Dropout(0.25f),
        new Flatten(),
        new Dense(128, Activation.Relu),
        new Dropout(0.5f),
        new Dense(classes),
    ]);

    /// <summary>
    /// The reference model with batch normalization after each convolution and the first dense
    /// layer (before its ReLU); the convolutions lose their bias, which BN's β replaces.
    /// </summary>
    public static Sequential SeedWithBatchNorm(int[]? inputShape = null, int classes = Classes) => new("seed-bn", inputShape ?? ImageShape,
    [
        new Conv2D(32, 3, useBias: false),
        new BatchNormalization(),
        new ReLU(),
        new MaxPool2D(2),
        new Conv2D(64, 3, useBias: false),
        new BatchNormalization(),
        new ReLU(),
        new MaxPool2D(2),
        new Dropout(0.25f),
        new Flatten(),
        new Dense(128),
        new BatchNormalization(),
        new ReLU(),
        new Dropout(0.5f),
        new Dense(classes),
    ]);

    /// <summary>
    /// A ResNet for 28×28 inputs (ResNet-8): a 3×3 stem of 16 filters with BN and ReLU, three
    /// stages of one basic block at 16, 32 and 64 filters (28×28, 14×14, 7×7; the later two with
    /// stride-2 projection shortcuts), global average pooling and a 10-way dense layer.
    /// </summary>
    public static Sequential ResNet(int[]? inputShape = null, int classes = Classes) => new("resnet", inputShape ?? ImageShape,
    [
        new Conv2D(16, 3, Activation.None, Padding.Same, useBias: false),
        new BatchNormalization(),
        new ReLU(),
        new ResidualBlock(16),
        new ResidualBlock(32, stride: 2),
        new ResidualBlock(64, stride: 2),
        new GlobalAvgPool2D(),
        new Dense(classes),
    ]);

    /// <summary>
    /// He et al.'s CIFAR ResNet (6n + 2 layers: ResNet-20 for n = 3, ResNet-32 for n = 5) for 28×28
    /// inputs: a 3×3 stem of 16 filters with BN and ReLU, three stages of n basic blocks at 16, 32
    /// and 64 filters (28×28, 14×14, 7×7), stride 2 at the first block of the later two stages with
    /// 1×1 projection shortcuts, global average pooling and a dense layer.
    /// </summary>
    public static Sequential HeResNet(string name, int blocksPerStage, int[]? inputShape = null, int classes = Classes)
    {
        List<Layer> layers = [new Conv2D(16, 3, Activation.None, Padding.Same, useBias: false), new BatchNormalization(), new ReLU()];
        foreach (int filters in new[] { 16, 32, 64 })
            for (int block = 0; block < blocksPerStage; block++)
                layers.Add(new ResidualBlock(filters, stride: block == 0 && filters > 16 ? 2 : 1));
        layers.Add(new GlobalAvgPool2D());
        layers.Add(new Dense(classes));
        return new Sequential(name, inputShape ?? ImageShape, layers);
    }
}
