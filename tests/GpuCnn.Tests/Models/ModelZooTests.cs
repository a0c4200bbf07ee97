using GpuCnn.Models;

namespace GpuCnn.Tests.Models;

[Collection("devices")]
public sealed class ModelZooTests(TestDevices devices)
{
    /// <summary>He et al.'s 6n + 2 ResNets: parameters counted by hand from the architecture the paper gives (B-style 1×1 projections).</summary>
    [Theory]
    [InlineData("resnet20", 3)]
    [InlineData("resnet32", 5)]
    public void HeResNetsHaveThePapersLayersAndParameters(string name, int n)
    {
        static long Conv(int k, int cin, int cout) => (long)k * k * cin * cout;
        static long Norm(int c) => 2L * c;
        long trainable = Conv(3, 1, 16) + Norm(16);
        int channels = 16;
        foreach (int filters in new[] { 16, 32, 64 })
            for (int block = 0; block < n; block++)
            {
                trainable += Conv(3, channels, filters) + Norm(filters) + Conv(3, filters, filters) + Norm(filters);
                if (channels != filters) trainable += Conv(1, channels, filters) + Norm(filters);
                channels = filters;
            }
        trainable += 64 * 10 + 10;

        using var model = ModelZoo.Create(name).Build(devices.Cpu, 2, 1);
        Assert.Equal(trainable, model.TrainableCount);
        Assert.Equal(new[] { 10 }, model.OutputShape);
        // 6n convolutions on the main paths, the stem, and the dense layer: 6n + 2 weighted layers.
        int convolutions = model.Layers.OfType<GpuCnn.Layers.ResidualBlock>().Count() * 2 + 1;
        Assert.Equal(6 * n + 2, convolutions + 1);
    }
}
