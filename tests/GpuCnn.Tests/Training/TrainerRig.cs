using GpuCnn.Data;
using GpuCnn.Devices;
using GpuCnn.Models;
using GpuCnn.Training;

namespace GpuCnn.Tests.Training;

/// <summary>
/// What a Trainer needs, built the way Model.Fit builds it, on synthetic images: the first
/// <c>trainCount</c> images train, the rest (if any) validate; with options.EmaDecay, a weight
/// average. Disposes all of it.
/// </summary>
public sealed class TrainerRig : IDisposable
{
    public DeviceDataset Data { get; }
    public Sequential Model { get; }
    public Optimizer Optimizer { get; }
    public SoftmaxCrossEntropy Loss { get; }
    public BatchFeeder Train { get; }
    public BatchFeeder? Validation { get; }
    public EmaWeights? Ema { get; }
    public Trainer Trainer { get; }

    public TrainerRig(ComputeDevice device, Hyperparameters options, int images, int trainCount, Sequential? model = null, string zooModel = "seed")
    {
        Data = new DeviceDataset(device, SyntheticData.Images(images, 5));
        Model = (model ?? ModelZoo.Create(zooModel)).Build(device, options.BatchSize, options.Seed);
        Optimizer = Optimizer.Create(options.Optimizer, device, Model.ParameterBuffer, Model.GradientBuffer, options.LearningRate);
        Loss = new SoftmaxCrossEntropy(device, options.BatchSize, ModelZoo.Classes);
        Train = new BatchFeeder(device, Data, Enumerable.Range(0, trainCount).ToArray(), options.BatchSize);
        Validation = images > trainCount
            ? new BatchFeeder(device, Data, Enumerable.Range(trainCount, images - trainCount).ToArray(), options.BatchSize)
            : null;
        Ema = EmaWeights.For(Model, options);
        Trainer = new Trainer(Model, Optimizer, Loss, Train, Validation, options, ema: Ema);
    }

    public void Dispose()
    {
        Trainer.Dispose();
        Ema?.Dispose();
        Validation?.Dispose();
        Train.Dispose();
        Loss.Dispose();
        Optimizer.Dispose();
        Model.Dispose();
        Data.Dispose();
    }
}
