using GpuCnn.Devices;

namespace GpuCnn.Tests.Devices;

/// <summary>The flags GpuCnn adds to PoCL's builds: after the user's own, only where asked, in a form PoCL's option check passes.</summary>
public sealed class OpenCLBuildFlagsTests
{
    [Fact]
    public void TheCompilersOwnChoiceLeavesTheUsersFlagsAsTheyWere()
    {
        Assert.Null(OpenCLBuildFlags.For(0, null));
        Assert.Equal("-DUSER=1", OpenCLBuildFlags.For(0, "-DUSER=1"));
    }

    [Fact]
    public void FiveHundredTwelveBitsComeAfterTheUsersFlags()
    {
        Assert.Equal(OpenCLBuildFlags.Prefer512, OpenCLBuildFlags.For(512, null));
        Assert.Equal(OpenCLBuildFlags.Prefer512, OpenCLBuildFlags.For(512, " "));
        Assert.Equal($"-DUSER=1 {OpenCLBuildFlags.Prefer512}", OpenCLBuildFlags.For(512, "-DUSER=1"));
    }

    [Fact]
    public void OtherWidthsAreRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => OpenCLBuildFlags.For(256, null));

    /// <summary>PoCL passes -D options on and strips double quotes, so the flags hold only -D tokens and no quote.</summary>
    [Fact]
    public void TheFlagsAreDefinitionsWithoutQuotes()
    {
        Assert.All(OpenCLBuildFlags.Prefer512.Split(' '), token => Assert.StartsWith("-D", token));
        Assert.DoesNotContain('"', OpenCLBuildFlags.Prefer512);
        Assert.Contains("tune=znver4", OpenCLBuildFlags.Prefer512);
    }

    [Theory]
    [InlineData("Portable Computing Language", true)]
    [InlineData("NVIDIA CUDA", false)]
    [InlineData("Intel(R) OpenCL", false)]
    public void OnlyPoclIsAskedForWiderVectors(string platform, bool pocl) =>
        Assert.Equal(pocl, OpenCLBuildFlags.IsPocl(platform));
}
