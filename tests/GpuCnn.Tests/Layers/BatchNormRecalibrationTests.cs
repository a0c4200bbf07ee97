using GpuCnn.Layers;
using GpuCnn.Models;
using GpuCnn.Tensors;
using GpuCnn.Training;

namespace GpuCnn.Tests.Layers;

/// <summary>PreciseBN (--bn-recalibrate): equal-weight batch statistics in place of Keras's momentum averages.</summary>
[Collection("devices")]
public sealed class BatchNormRecalibrationTests(TestDevices devices)
{
    [Theory]
    [InlineData("cpu")]
    [InlineData("gpu")]
    [InlineData(TestDevices.OpenCLGpu, Traits = [TestDevices.PlanTrait, TestDevices.OpenCLGpu])]
    [InlineData(TestDevices.Cuda, Traits = [TestDevices.PlanTrait, TestDevices.Cuda])]
    public void RecalibrationAveragesTheBatchesStatisticsWithEqualWeights(string plan)
    {
        var device = devices[plan];
        const int Rows = 12, Channels = 8, Batches = 3;
        var layer = new BatchNormalization();
        using var model = new Sequential("bn", [Channels], [layer]).Build(device, Rows, 1);
        using var input = Tensor.Zeros(device, Rows, Channels);
        // A training pass first moves the averages off their start, which recalibration must discard.
        input.CopyFrom(TestData.Uniform(Rows * Channels, 9, 3, 4));
        layer.Forward(input, new PassContext(true, 0));
        var expectedMean = new double[Channels];
        var expectedVariance = new double[Channels];
        for (int b = 0; b < Batches; b++)
        {
            // Batches of different centre and spread, so unequal weights would show.
            var x = TestData.Uniform(Rows * Channels, 30 + b, -1 - 2 * b, 1 + 5 * b);
            input.CopyFrom(x);
            var y = layer.Forward(input, PassContext.Recalibration(b)).ToArray();
            var normalised = new double[x.Length];
            for (int c = 0; c < Channels; c++)
            {
                double mean = Enumerable.Range(0, Rows).Average(r => (double)x[r * Channels + c]);
                double variance = Enumerable.Range(0, Rows).Average(r => Math.Pow(x[r * Channels + c] - mean, 2));
                expectedMean[c] += mean / Batches;
                expectedVariance[c] += variance / Batches;
                for (int r = 0; r < Rows; r++) normalised[r * Channels + c] = (x[r * Channels + c] - mean) / Math.Sqrt(variance + layer.Epsilon);
            }
            // Like training, the pass normalises with the batch's own statistics (γ = 1, β = 0 here).
            TestData.AssertClose(y, normalised, 1e-4);
        }
        TestData.AssertClose(layer.Parameters.Single(p => p.Name.EndsWith("moving_mean")).Value.ToArray(), expectedMean, 1e-5);
        TestData.AssertClose(layer.Parameters.Single(p => p.Name.EndsWith("moving_variance")).Value.ToArray(), expectedVariance, 1e-5);
    }

    [Fact]
    public void RecalibrationPassesRunDropoutAsInference()
    {
        var device = devices.Cpu;
        var dropout = new Dropout(0.5f);
        using var model = new Sequential("d", [8], [dropout]).Build(device, 4, 1);
        using var input = Tensor.Zeros(device, 4, 8);
        var x = TestData.Uniform(32, 4);
        input.CopyFrom(x);
        Assert.Equal(x, dropout.Forward(input, PassContext.Recalibration(0)).ToArray());
    }

    [Fact]
    public void TheTrainerRecalibratesOnTheEpochsFirstBatchesBeforeValidating()
    {
        var device = devices.Cpu;
        var options = new Hyperparameters { Epochs = 1, BatchSize = 32, BatchNormRecalibration = 2 };
        using var rig = new GpuCnn.Tests.Training.TrainerRig(device, options, 160, 128, zooModel: "seed-bn");
        var (model, train) = (rig.Model, rig.Train);
        rig.Trainer.Run();
        float[] Statistics() => model.AllParameters.Where(p => !p.Trainable).SelectMany(p => p.Value.ToArray()).ToArray();
        var afterTraining = Statistics();

        // Recalibrating again over the same two batches of the epoch's order, with the same weights,
        // must give the same averages to the bit; momentum averages would differ.
        Assert.Equal(2, BatchNormRecalibration.Run(model, train, options.BatchNormRecalibration));
        Assert.Equal(afterTraining, Statistics());
        Assert.Equal(4, BatchNormRecalibration.Run(model, train, 100));
        Assert.NotEqual(afterTraining, Statistics());
    }
}
