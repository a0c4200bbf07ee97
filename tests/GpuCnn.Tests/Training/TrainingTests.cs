using GpuCnn.Data;
using GpuCnn.Devices;
using GpuCnn.Models;
using GpuCnn.Persistence;
using GpuCnn.Reporting;
using GpuCnn.Training;

namespace GpuCnn.Tests.Training;

[Collection("devices")]
public sealed class TrainingTests(TestDevices devices)
{
    /// <summary>Trains the seed model for one epoch on synthetic data; returns its weights and metrics.</summary>
    static (float[] Weights, EpochMetrics Metrics) TrainOneEpoch(ComputeDevice device, int seed, int images = 384,
        Func<Sequential>? architecture = null, int batchSize = 64, string optimizer = "adam", float learningRate = 1e-3f)
    {
        var options = new Hyperparameters { BatchSize = batchSize, Seed = seed, Epochs = 1, Optimizer = optimizer, LearningRate = learningRate };
        using var rig = new TrainerRig(device, options, images, images - batchSize, architecture?.Invoke());
        rig.Trainer.Run();
        return (rig.Model.ParameterBuffer.ToArray(), rig.Trainer.History[0]);
    }

    [Fact]
    public void SameSeedGivesBitIdenticalWeightsAndMetrics()
    {
        var first = TrainOneEpoch(devices.Cpu, 7);
        var second = TrainOneEpoch(devices.Cpu, 7);
        Assert.Equal(first.Weights, second.Weights);
        Assert.Equal(first.Metrics with { Seconds = 0, ImagesPerSecond = 0 }, second.Metrics with { Seconds = 0, ImagesPerSecond = 0 });
        var other = TrainOneEpoch(devices.Cpu, 8);
        Assert.NotEqual(first.Weights, other.Weights);
    }

    /// <summary>Every layer kind of the seed model, small enough for the GPU plan on the CPU accelerator.</summary>
    static Sequential Small() => new("small", [28, 28, 1],
    [
        new GpuCnn.Layers.Conv2D(8, 3, GpuCnn.Layers.Activation.Relu),
        new GpuCnn.Layers.MaxPool2D(2),
        new GpuCnn.Layers.Conv2D(16, 3, GpuCnn.Layers.Activation.Relu, GpuCnn.Layers.Padding.Same, stride: 2),
        new GpuCnn.Layers.Dropout(0.25f),
        new GpuCnn.Layers.Flatten(),
        new GpuCnn.Layers.Dense(16, GpuCnn.Layers.Activation.Relu),
        new GpuCnn.Layers.Dense(10),
    ]);

    [Fact]
    public void EveryLaunchPlanTrainsTheSameWeights()
    {
        var cpu = TrainOneEpoch(devices.Cpu, 3, 48, Small, 16).Weights;
        foreach (var device in new[] { devices.GpuPlan, devices.Generic })
        {
            var other = TrainOneEpoch(device, 3, 48, Small, 16).Weights;
            double worst = cpu.Zip(other, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(worst < 1e-4, $"plan {device.Plan.Name}: weights differ from the CPU plan's by up to {worst:E2}");
        }
    }

    /// <summary>
    /// The real seed model (direct first-layer kernels, register-tiled or shared-memory GEMMs,
    /// dropout on) for 5 steps of 16 images on the generic plan and both OpenCL plans (the GPU
    /// plan as a GPU runs it): the same masks and the same arithmetic, summed in another order
    /// where a plan splits its reductions (and on OpenCL with fused multiply-adds), so the
    /// weights and metrics agree with the CPU accelerator's to float rounding. The steps are SGD
    /// with momentum, whose update is linear in the gradient: Adam divides each gradient by its
    /// own magnitude, so a gradient that cancels to about zero takes a step of up to the learning
    /// rate whose sign the rounding decides (9e-4 apart after 5 steps), which no summation order
    /// can be held to. Adam's update is held to its reference on every plan by the optimizer's own
    /// kernel tests. (The GPU plan emulated on the CPU accelerator, with one OS thread per
    /// work-item, is too slow for this model: it trains the small one above.)
    /// </summary>
    [Theory]
    [InlineData("generic")]
    [InlineData(TestDevices.OpenCLGpu, Traits = [TestDevices.PlanTrait, TestDevices.OpenCLGpu])]
    [InlineData(TestDevices.Cuda, Traits = [TestDevices.PlanTrait, TestDevices.Cuda])]
    [InlineData(TestDevices.OpenCLCpu)]
    public void SeedModelTrainsAlikeOnEveryPlan(string plan)
    {
        var cpu = TrainOneEpoch(devices.Cpu, 11, 96, batchSize: 16, optimizer: "sgd", learningRate: 0.05f);
        var other = TrainOneEpoch(devices[plan], 11, 96, batchSize: 16, optimizer: "sgd", learningRate: 0.05f);
        double worst = cpu.Weights.Zip(other.Weights, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst < 1e-6, $"plan {plan}: weights differ from the CPU plan's by up to {worst:E2}");
        Assert.Equal(cpu.Metrics.Loss, other.Metrics.Loss, 1e-4);
        Assert.Equal(cpu.Metrics.Accuracy, other.Metrics.Accuracy, 1e-9);
        Assert.Equal(cpu.Metrics.ValLoss, other.Metrics.ValLoss, 1e-4);
        Assert.Equal(cpu.Metrics.ValAccuracy, other.Metrics.ValAccuracy, 1e-9);
    }

    [Theory]
    [InlineData(LearningRateSchedule.Constant, 4, 0.001)]
    [InlineData(LearningRateSchedule.Step, 4, 0.001)]
    [InlineData(LearningRateSchedule.Step, 5, 0.0005)]
    [InlineData(LearningRateSchedule.Step, 10, 0.00025)]
    [InlineData(LearningRateSchedule.Cosine, 0, 0.001)]
    [InlineData(LearningRateSchedule.Cosine, 5, 0.0005)]
    public void LearningRateSchedules(LearningRateSchedule schedule, int epoch, double expected)
    {
        var options = new Hyperparameters { Schedule = schedule, Epochs = 10 };
        Assert.Equal(expected, options.LearningRateAt(epoch), 6);
    }

    [Theory]
    [InlineData(new[] { 0.5, 0.4, 0.3 }, 1, false)]
    [InlineData(new[] { 0.5, 0.4, 0.45 }, 1, true)]
    [InlineData(new[] { 0.5, 0.4, 0.45 }, 2, false)]
    [InlineData(new[] { 0.5, 0.4, 0.45, 0.41 }, 2, true)]
    [InlineData(new[] { 0.5, 0.4, 0.45, 0.39 }, 2, false)]
    public void EarlyStoppingWaitsPatienceEpochsWithoutImprovement(double[] valLosses, int patience, bool stop)
    {
        var history = valLosses.Select((v, i) => new EpochMetrics(i + 1, 1, 0.5, v, 0.5, 1, 1, 0.001)).ToList();
        Assert.Equal(stop, Trainer.NoImprovementFor(history, patience));
    }

    sealed class KillAfterEpoch(int epochs) : ITrainingObserver
    {
        public void OnEpochEnd(EpochMetrics metrics)
        {
            if (metrics.Epoch == epochs) throw new OperationCanceledException("killed");
        }
    }

    static TrainingResult Train(string dataDir, string runDir, Hyperparameters options, bool resume = false, string model = "seed",
        params ITrainingObserver[] extra)
    {
        var session = new TrainingSession(TextWriter.Null) { Observers = extra };
        return resume
            ? session.Resume(new ResumeRequest(runDir) { Device = DeviceKind.Cpu })!
            : session.Start(new RunSpec { Model = model, Device = DeviceKind.Cpu, Folder = runDir }, options, new DataSpec { DataDir = dataDir });
    }

    /// <summary>
    /// A run killed after its second epoch and resumed ends as an uninterrupted one, to the bit: its
    /// history, test predictions and final model file. With a weight average (and batch norm and
    /// PreciseBN, whose statistics are averaged and recalibrated too), the checkpoint holds the
    /// average as the model and the live weights beside it.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void KilledAndResumedRunEndsLikeAnUninterruptedOne(bool ema)
    {
        string data = SyntheticData.WriteFolder(480, 128);
        var options = new Hyperparameters { Epochs = 3, BatchSize = 64, Seed = 5 };
        if (ema) options = options with { EmaDecay = 0.9f, EmaWarmup = true, BatchNormRecalibration = 2 };
        string model = ema ? "seed-bn" : "seed";
        string whole = Path.Combine(SyntheticData.TempFolder(), "whole");
        var uninterrupted = Train(data, whole, options, model: model);

        string broken = Path.Combine(SyntheticData.TempFolder(), "broken");
        Assert.Throws<OperationCanceledException>(() => Train(data, broken, options, model: model, extra: new KillAfterEpoch(2)));
        Assert.Equal(2, Checkpoint.Load(Path.Combine(broken, RunFiles.Checkpoint)).Header.History.Count);
        var resumed = Train(data, broken, options, resume: true);

        Assert.Equal(3, resumed.History.Count);
        Assert.Equal(uninterrupted.History.Select(Comparable), resumed.History.Select(Comparable));
        Assert.Equal(uninterrupted.Test.Accuracy, resumed.Test.Accuracy);
        Assert.Equal(uninterrupted.Test.Predictions, resumed.Test.Predictions);
        foreach (var file in new[] { RunFiles.Model, RunFiles.MetricsCsv, RunFiles.TrainingPlot, RunFiles.ConfusionPlot, RunFiles.Report })
            Assert.True(File.Exists(Path.Combine(broken, file)), $"{file} missing from the resumed run");
        var expected = Checkpoint.Load(Path.Combine(whole, RunFiles.Model)).Arrays;
        var arrays = Checkpoint.Load(Path.Combine(broken, RunFiles.Model)).Arrays;
        Assert.Equal(expected.Select(a => a.Name), arrays.Select(a => a.Name));
        foreach (var (a, b) in expected.Zip(arrays)) Assert.True(a.Values.SequenceEqual(b.Values), $"{a.Name} differs from the uninterrupted run's");
        Assert.Equal(ema, arrays.Any(a => a.Name == EmaWeights.LiveParametersName));
    }

    static EpochMetrics Comparable(EpochMetrics m) => m with { Seconds = 0, ImagesPerSecond = 0 };

    sealed class PoisonWeights(GpuCnn.Tensors.Tensor parameters) : ITrainingObserver
    {
        public void OnEpochEnd(EpochMetrics metrics) =>
            parameters.CopyFrom(Enumerable.Repeat(float.NaN, parameters.Length).ToArray());
    }

    [Fact]
    public void ALossThatBecomesNaNStopsTheRunAndKeepsTheLastGoodCheckpoint()
    {
        var device = devices.Cpu;
        var options = new Hyperparameters { Epochs = 3, BatchSize = 64 };
        string run = Path.Combine(SyntheticData.TempFolder(), "nan");
        using var model = GpuCnn.Model.Compile(ModelZoo.Create("seed"), device, options);
        using var folder = RunFolder.Create(run);
        folder.Start(model, options, "test");
        var images = SyntheticData.Images(256, 5);
        // Fault injection: once epoch 1 is checkpointed, every weight becomes NaN.
        var e = Assert.Throws<TrainingDivergedException>(() => model.Fit(images, 3, observers: [folder, new PoisonWeights(model.Network.ParameterBuffer)]));
        Messages.Says(e.Message, "NaN in epoch 2");
        var header = Checkpoint.Load(Path.Combine(run, RunFiles.Checkpoint)).Header;
        Assert.Single(header.History);
        Assert.True(double.IsFinite(header.History[0].Loss));
    }

    /// <summary>A resumed history that already met early stopping trains no further epoch (it used to train one more).</summary>
    [Fact]
    public void AResumedEarlyStoppedRunTrainsNoFurtherEpoch()
    {
        var device = devices.Cpu;
        var options = new Hyperparameters { Epochs = 10, BatchSize = 32, EarlyStoppingPatience = 1 };
        using var rig = new TrainerRig(device, options, 64, 64);
        var (trainer, optimizer) = (rig.Trainer, rig.Optimizer);
        // Validation loss rose in epoch 2: with patience 1 the run ended there.
        trainer.History.AddRange([new EpochMetrics(1, 0.9, 0.6, 0.5, 0.8, 1, 1, 1e-3), new EpochMetrics(2, 0.8, 0.7, 0.6, 0.8, 1, 1, 1e-3)]);
        trainer.Run();
        Assert.Equal(2, trainer.History.Count);
        Assert.Equal(0, optimizer.Steps);
        Assert.True(trainer.StoppedEarly);
    }
}
