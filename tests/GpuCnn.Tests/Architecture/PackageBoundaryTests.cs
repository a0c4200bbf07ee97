using System.Xml.Linq;

namespace GpuCnn.Tests.Architecture;

/// <summary>
/// The core packages (GpuCnn, GpuCnn.Kernels) carry ILGPU and Google.Protobuf and nothing heavy:
/// plotting (ScottPlot, SkiaSharp, HarfBuzz) and MPI (MPI.NET) live in their own packages. Checked
/// in the project files, whose package references become the packages' dependencies, and in the
/// compiled core, which must name none of those assemblies.
/// </summary>
public sealed class PackageBoundaryTests
{
    static readonly string[] Heavy = ["ScottPlot", "SkiaSharp", "HarfBuzzSharp", "MPI"];

    [Theory]
    [InlineData("src/GpuCnn/GpuCnn.csproj")]
    [InlineData("kernels/GpuCnn.Kernels/GpuCnn.Kernels.csproj")]
    public void TheCorePackagesDependOnlyOnIlgpuAndProtobuf(string project)
    {
        var references = XDocument.Load(Path.Combine(OptionalRuntime.RepositoryRoot(), project)).Descendants("PackageReference")
            .Where(r => (string?)r.Attribute("PrivateAssets") != "all")
            .Select(r => (string)r.Attribute("Include")!).ToList();
        Assert.NotEmpty(references);
        Assert.All(references, id => Assert.Contains(id, new[] { "ILGPU", "ILGPU.Algorithms", "Google.Protobuf" }));
    }

    [Fact]
    public void TheCompiledCoreNamesNoPlottingOrMpiAssembly()
    {
        foreach (var assembly in new[] { typeof(Model).Assembly, typeof(GpuCnn.Kernels.CounterRng).Assembly })
        {
            var names = assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();
            Assert.Contains(names, n => n.StartsWith("ILGPU", StringComparison.Ordinal) || n.StartsWith("GpuCnn", StringComparison.Ordinal));
            Assert.DoesNotContain(names, n => Heavy.Any(h => n.StartsWith(h, StringComparison.Ordinal)));
        }
    }
}
