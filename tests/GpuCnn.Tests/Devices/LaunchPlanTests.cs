using GpuCnn.Kernels;
using GpuCnn.Devices;

namespace GpuCnn.Tests.Devices;

/// <summary>How the OpenCL-CPU plan sizes a weight gradient's chunk by the host's L2, and how it reads that size; how it cuts batch norm's sums.</summary>
public sealed class LaunchPlanTests
{
    const long K = 1024;

    [Theory]
    // resnet20's three stages on a 512 KB L2 (Zen 3): 16+16, 32+32 and 64+64 floats a pixel.
    [InlineData(512 * K, 100352, 128, 2048)]
    [InlineData(512 * K, 25088, 256, 1024)]
    [InlineData(512 * K, 6272, 512, 512)]
    // Never below 256 pixels, however wide the rows.
    [InlineData(512 * K, 6272, 64 * K, 256)]
    // A 2 MB L2 (the AVX-512 Xeon) keeps the plan's 2,048 for all three.
    [InlineData(2048 * K, 6272, 512, 2048)]
    // An unknown L2 keeps it too.
    [InlineData(0, 6272, 512, 2048)]
    // A layer with fewer pixels than a chunk sums them all in one.
    [InlineData(512 * K, 300, 128, 300)]
    public void TheWeightGradientsChunkHalvesUntilItsRowsFillHalfTheL2(long l2Bytes, int pixels, long bytesPerPixel, int expected)
    {
        var plan = LaunchPlan.ForOpenCLCpu() with { L2Bytes = l2Bytes };
        Assert.Equal(expected, plan.WeightGradChunkLength(pixels, bytesPerPixel));
    }

    [Theory]
    // resnet20's three stages, F(3×3, 4×4) on a 1 MB L2 (Zen 5): chunks of the plan's 2,048 pixels
    // (128 tiles), in batches whose transforms fill at most 256 KB, as even as they come.
    [InlineData(1024 * K, 28, 16, 49, 129, 43)]
    [InlineData(1024 * K, 14, 32, 16, 130, 26)]
    [InlineData(1024 * K, 7, 64, 4, 130, 13)]
    // A 512 KB L2 (Zen 3) halves the batches of the last stage.
    [InlineData(512 * K, 7, 64, 4, 133, 7)]
    public void TheWinogradWeightGradientTakesChunksOfPixelsInBatchesThatFitTheL2(long l2Bytes, int size, int channels,
        int chunks, int tilesPerChunk, int batch)
    {
        var plan = LaunchPlan.ForOpenCLCpu() with { L2Bytes = l2Bytes };
        var split = plan.WinogradWeightGradSplit(new ConvGeometry(128, size, size, channels, 3, 3, 1, 1), channels, 4);
        Assert.Equal((chunks, tilesPerChunk, batch), (split.Chunks, split.TilesPerChunk, split.Batch));
        Assert.True(36L * batch * 2 * channels * sizeof(float) <= l2Bytes / 4);
    }

    [Fact]
    public void TheWinogradWeightGradientsProductsStayUnderTheirCap()
    {
        // 512 channels at 56 × 56, batch 256: 50,176 tiles of 4 × 4, 36 × 512 × 512 floats a slab.
        var g = new ConvGeometry(256, 56, 56, 512, 3, 3, 1, 1);
        var split = (LaunchPlan.ForOpenCLCpu() with { L2Bytes = 1024 * K }).WinogradWeightGradSplit(g, 512, 4);
        Assert.True((long)split.Chunks * 36 * 512 * 512 <= LaunchPlan.MaxWinogradProducts);
        Assert.True((long)split.Chunks * split.TilesPerChunk >= 50176);
    }

    [Fact]
    public void TheCpuPlansWinogradWeightGradientTakesAChunkAThread()
    {
        var split = LaunchPlan.ForCpu(2).WinogradWeightGradSplit(new ConvGeometry(128, 28, 28, 16, 3, 3, 1, 1), 16, 4);
        Assert.Equal(2, split.Chunks);
        Assert.Equal(6272, split.Chunks * split.TilesPerChunk);
    }

    [Fact]
    public void AChunkSetBelowTheFloorAndTheCpuPlansWholeSumsAreKept()
    {
        Assert.Equal(8, (LaunchPlan.ForOpenCLCpu() with { WeightGradChunk = 8, L2Bytes = 512 * K }).WeightGradChunkLength(6272, 512));
        Assert.Equal(6272, LaunchPlan.ForCpu(2).WeightGradChunkLength(6272, 512));
    }

    [Theory]
    // resnet20's batch norms, batch 128: 2, 4 and 8 groups of eight channels a row.
    [InlineData(100352, 2, 1024)]
    [InlineData(25088, 4, 512)]
    [InlineData(6272, 8, 256)]
    // Never below 64 rows: 300 rows stop at 75, four chunks.
    [InlineData(300, 1, 75)]
    // Rows enough for 128 work-items at the plan's 4,096 keep it.
    [InlineData(1 << 20, 1, 4096)]
    public void BatchNormsSumsAreCutIntoAtLeast128WorkItems(int rows, int groups, int expected)
    {
        var plan = LaunchPlan.ForOpenCLCpu();
        Assert.Equal(expected, plan.ChunkLength(rows, groups));
        int chunks = plan.Chunks(rows, groups);
        Assert.Equal((rows + expected - 1) / expected, chunks);
        Assert.True(chunks * groups >= 128 || expected / 2 < 64, $"{chunks} chunks of {groups} work-items");
    }

    [Fact]
    public void TheCpuPlanSumsBatchNormsRowsWhole() => Assert.Equal(100352, LaunchPlan.ForCpu(2).ChunkLength(100352, 2));

    [Theory]
    [InlineData("512K\n", 512 * K)]
    [InlineData("2048K", 2048 * K)]
    [InlineData("1M", 1024 * K)]
    [InlineData("65536", 65536)]
    [InlineData("", 0)]
    [InlineData("big", 0)]
    [InlineData("-4K", 0)]
    public void SysfsCacheSizesAreRead(string text, long bytes) => Assert.Equal(bytes, HostCache.ParseSize(text));

    [Fact]
    public void TheL2IsTheCacheOfLevelTwo()
    {
        string cpu = SyntheticData.TempFolder();
        void Cache(string index, string level, string size)
        {
            Directory.CreateDirectory(Path.Combine(cpu, index));
            File.WriteAllText(Path.Combine(cpu, index, "level"), level + "\n");
            File.WriteAllText(Path.Combine(cpu, index, "size"), size + "\n");
        }
        Cache("index0", "1", "32K");
        Cache("index1", "1", "32K");
        Cache("index2", "2", "1024K");
        Cache("index3", "3", "32768K");
        Assert.Equal(1024 * K, HostCache.L2Bytes(cpu));
        Assert.Equal(0, HostCache.L2Bytes(Path.Combine(cpu, "absent")));
    }

    /// <summary>GPU plans keep the 4×16 tile, the one whose PTX assembles without spills; the stacked and wide tiles are for CPUs' registers.</summary>
    [Fact]
    public void GpuPlansKeepFourRowTiles()
    {
        Assert.Equal(416, LaunchPlan.ForGpu().Tile);
        Assert.Equal(416, LaunchPlan.ForGpu(256, 16 * 1024).Tile);
    }

    /// <summary>The OpenCL-CPU plan asks for the vector width it is given; the CPU and GPU plans leave it to the compiler.</summary>
    [Fact]
    public void OnlyTheOpenCLCpuPlanAsksForAVectorWidth()
    {
        Assert.Equal(512, LaunchPlan.ForOpenCLCpu(512).VectorBits);
        Assert.Equal(0, LaunchPlan.ForOpenCLCpu().VectorBits);
        Assert.Equal(0, LaunchPlan.ForGpu().VectorBits);
        Assert.Equal(0, LaunchPlan.ForCpu(2).VectorBits);
    }
}
