using GpuCnn.Layers;
using GpuCnn.Models;
using GpuCnn.Persistence;
using GpuCnn.Tensors;
using GpuCnn.Training;
using ILGPU;
using ILGPU.Runtime;

namespace GpuCnn.Tests.Persistence;

[Collection("devices")]
public sealed class CheckpointTests(TestDevices devices)
{
    string SaveTrainedSeed(out float[] predictionsLogits, out float[] input, string modelName = "seed")
    {
        var device = devices.Cpu;
        using var model = ModelZoo.Create(modelName).Build(device, 8, 3);
        using var optimizer = new Adam(device, model.ParameterBuffer, model.GradientBuffer, 1e-3f);
        using var x = Tensor.Zeros(device, 8, 28, 28, 1);
        input = TestData.Uniform(x.Length, 4, 0, 1);
        x.CopyFrom(input);
        // A few steps, so the weights and Adam's moments are not their initial values.
        using var loss = new SoftmaxCrossEntropy(device, 8, 10);
        using var labels = device.Accelerator.Allocate1D(new[] { 1, 2, 3, 4, 5, 6, 7, 8 });
        using var totals = new LossTotals(device);
        for (int step = 0; step < 3; step++)
        {
            var logits = model.Forward(x, new PassContext(true, (uint)step));
            model.Backward(loss.Forward(logits, labels.View, totals));
            optimizer.Step();
        }
        predictionsLogits = model.Forward(x, PassContext.Inference).ToArray();
        string path = Path.Combine(SyntheticData.TempFolder(), "model.gpucnn");
        TrainingState.Save(path, model, optimizer, new Hyperparameters(), [], new RunRecord("test"));
        return path;
    }

    [Theory]
    [InlineData("seed")]
    [InlineData("seed-bn")]
    [InlineData("resnet")]
    public void RoundTripPredictsIdentically(string modelName)
    {
        // Batch-norm models predict with their moving averages, so this also checks those are saved.
        string path = SaveTrainedSeed(out var expected, out var input, modelName);
        var device = devices.Cpu;
        using var model = ModelZoo.Create(modelName).Build(device, 8, seed: 999);
        using var optimizer = new Adam(device, model.ParameterBuffer, model.GradientBuffer, 1e-3f);
        var header = TrainingState.Restore(path, model, optimizer);
        Assert.Equal(3, header.OptimizerSteps);
        Assert.Equal(3, optimizer.Steps);
        using var x = Tensor.Zeros(device, 8, 28, 28, 1);
        x.CopyFrom(input);
        Assert.Equal(expected, model.Forward(x, PassContext.Inference).ToArray());
    }

    /// <summary>
    /// Fine-tuning's fields are written and read back. A version 3 header from before them, and
    /// before the modern recipe's (as the run folders under docs/results hold), reads as none of
    /// them: nothing frozen, weights from the seed, no erasing, decay, smoothing, warm-up or flips.
    /// </summary>
    [Fact]
    public void FreezeAndInitFromRoundTripAndHeadersWithoutThemStillLoad()
    {
        var header = new CheckpointHeader("seed", [28, 28, 1], 10, new Hyperparameters { Freeze = "conv2d_1" }, "adam", 0, [],
            new RunRecord("test", InitFrom: "/models/fashion.gpucnn"));
        byte[] bytes = HeaderSchema.Write(header, []);
        var (read, _) = HeaderSchema.Read(System.Text.Json.JsonDocument.Parse(bytes).RootElement);
        Assert.Equal(header.Hyperparameters, read.Hyperparameters);
        Assert.Equal("/models/fashion.gpucnn", read.Run.InitFrom);

        var older = System.Text.Json.Nodes.JsonNode.Parse(bytes)!.AsObject();
        var hyperparameters = older["hyperparameters"]!.AsObject();
        foreach (var field in new[] { "freeze", "weight_decay", "decay_all", "label_smoothing", "warmup_epochs", "test_time_flip" })
            Assert.True(hyperparameters.Remove(field), field);
        Assert.True(hyperparameters["augmentation"]!.AsObject().Remove("erase_probability") && older["run"]!.AsObject().Remove("init_from"));
        var (old, _) = HeaderSchema.Read(System.Text.Json.JsonDocument.Parse(older.ToJsonString()).RootElement);
        Assert.Equal(new Hyperparameters(), old.Hyperparameters);
        Assert.Null(old.Run.InitFrom);
    }

    [Fact]
    public void TruncatedCheckpointIsRefused()
    {
        string path = SaveTrainedSeed(out _, out _);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(path));
        Messages.Says(e.Message, "truncated or corrupt");
        Messages.Says(e.Message, path);
    }

    [Fact]
    public void OtherFormatVersionIsRefused()
    {
        string path = SaveTrainedSeed(out _, out _);
        var bytes = File.ReadAllBytes(path);
        bytes[8] = 9;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(path));
        Messages.Says(e.Message, "format version 9");
    }

    [Fact]
    public void NotACheckpointIsRefused()
    {
        string path = Path.Combine(SyntheticData.TempFolder(), "x.gpucnn");
        File.WriteAllText(path, "definitely not a checkpoint, but long enough to have a header and a hash at the end");
        Assert.Contains("not a GpuCnn checkpoint", Assert.Throws<CheckpointException>(() => Checkpoint.Load(path)).Message);
    }

    [Fact]
    public void CheckpointOfAnotherArchitectureIsRefused()
    {
        string path = SaveTrainedSeed(out _, out _);
        using var other = new Sequential("seed", [28, 28, 1], [new Flatten(), new Dense(10)]).Build(devices.Cpu, 2, 1);
        var e = Assert.Throws<CheckpointException>(() => TrainingState.Restore(path, other, null));
        Messages.Says(e.Message, "'dense/kernel' has shape (1600, 128) but model 'seed' needs (784, 10)");
    }
}
