using System.Collections.Concurrent;
using System.Reflection;
using GpuCnn.Devices;
using GpuCnn.Kernels;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.OpenCL;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace GpuCnn.Tests.Kernels;

/// <summary>
/// Every kernel compiles for CUDA (PTX for several SM targets) and OpenCL C with ILGPU's own
/// backends, with no GPU present: proof that the CUDA and OpenCL paths use nothing those
/// targets cannot express. Where NVIDIA's ptxas is found (tools/fetch-ptxas.sh; CI), each PTX
/// is also assembled for its SM target and must assemble with no spills.
/// </summary>
public sealed class GpuCompilationTests
{
    /// <summary>Every register tile the implicit convolutions come in: the plain ones and the two stacked ones.</summary>
    static readonly Type[] RegisterTiles =
    [
        .. typeof(IRegisterTile).Assembly.GetTypes()
            .Where(t => t.IsValueType && !t.IsGenericTypeDefinition && typeof(IRegisterTile).IsAssignableFrom(t)).OrderBy(t => t.Name),
        typeof(StackedTile<RegisterTile4, RegisterTile4>), typeof(StackedTile<RegisterTile6, RegisterTile6>),
        typeof(WideTile<RegisterTile4>), typeof(WideTile<RegisterTile6>), typeof(WideTile<StackedTile<RegisterTile4, RegisterTile4>>),
    ];

    /// <summary>
    /// Kernels that their launcher holds with only some register tiles, and those tiles: the weight
    /// gradient by kernel rows keeps three of them a work-item, and ptxas takes minutes over the
    /// larger tiles that no plan launches it with.
    /// </summary>
    static readonly Dictionary<string, Type[]> LaunchedTiles = new()
    {
        ["Conv2dKernels.Conv2dWeightGradKernelRow"] =
            [typeof(RegisterTile4), typeof(StackedTile<RegisterTile4, RegisterTile4>), typeof(WideTile<RegisterTile4>)],
    };

    /// <summary>The Winograd transforms a generic kernel is closed over.</summary>
    static readonly Type[] WinogradTransforms = [typeof(WinogradF2), typeof(WinogradF4)];

    /// <summary>Every kernel entry point: a public static void method of a *Kernels class; a generic one once per register tile and Winograd transform it takes.</summary>
    public static IEnumerable<MethodInfo> AllKernels() =>
        typeof(GemmKernels).Assembly.GetTypes()
            .Where(t => t.IsClass && t.IsAbstract && t.IsSealed && t.Name.EndsWith("Kernels"))
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static))
            .Where(m => m.ReturnType == typeof(void))
            .SelectMany(m => m.IsGenericMethodDefinition ? Closed(m) : [m])
            .OrderBy(NameOf);

    /// <summary>A generic kernel closed over every combination of the types its parameters take (its launched tiles where LaunchedTiles names them), as their constraints allow.</summary>
    static IEnumerable<MethodInfo> Closed(MethodInfo kernel)
    {
        IEnumerable<Type[]> choices = [[]];
        var tiles = LaunchedTiles.GetValueOrDefault($"{kernel.DeclaringType!.Name}.{kernel.Name}", RegisterTiles);
        foreach (var parameter in kernel.GetGenericArguments())
        {
            var constraints = parameter.GetGenericParameterConstraints();
            // The tiles its constraint takes: a kernel of 16-filter tiles (IRegisterTile16) gets no wide one.
            var candidates = (constraints.Contains(typeof(IWinogradTransform)) ? WinogradTransforms : tiles)
                .Where(type => constraints.All(constraint => constraint.IsAssignableFrom(type)));
            choices = choices.SelectMany(chosen => candidates.Select(type => (Type[])[.. chosen, type]));
        }
        return choices.Select(kernel.MakeGenericMethod);
    }

    /// <summary>Class.Method, with a generic kernel's tile: Conv2dKernels.Conv2dForwardImplicit&lt;RegisterTile6&gt;.</summary>
    static string NameOf(MethodInfo m) =>
        $"{m.DeclaringType!.Name}.{m.Name}" + (m.IsGenericMethod ? $"<{string.Join(",", m.GetGenericArguments().Select(NameOf))}>" : "");

    /// <summary>A type as C# writes it: StackedTile&lt;RegisterTile6,RegisterTile6&gt;.</summary>
    static string NameOf(Type t) =>
        t.IsGenericType ? $"{t.Name[..t.Name.IndexOf('`')]}<{string.Join(",", t.GetGenericArguments().Select(NameOf))}>" : t.Name;

    public static TheoryData<string> KernelNames()
    {
        var data = new TheoryData<string>();
        foreach (var m in AllKernels()) data.Add(NameOf(m));
        return data;
    }

    static MethodInfo Find(string name) => AllKernels().Single(m => NameOf(m) == name);

    static EntryPointDescription Describe(MethodInfo kernel) =>
        kernel.GetParameters().FirstOrDefault()?.ParameterType == typeof(Index1D)
            ? EntryPointDescription.FromImplicitlyGroupedKernel(kernel)
            : EntryPointDescription.FromExplicitlyGroupedKernel(kernel);

    [Fact]
    public void EveryKernelFamilyIsDiscovered()
    {
        var names = AllKernels().Select(m => m.Name).ToHashSet();
        foreach (var expected in new[] { "GemmRegisterTiled", "GemmSharedTiled", "GemmGeneric", "Conv2dIm2Col", "Conv2dCol2Im",
                     "MaxPool2DForward", "MaxPool2DBackward", "DropoutForward", "DropoutBackward", "SoftmaxCrossEntropy",
                     "AdamUpdate", "SgdMomentumUpdate", "GatherBatch" })
            Assert.Contains(expected, names);
        var closed = AllKernels().Select(NameOf).ToHashSet();
        foreach (var tile in new[] { "RegisterTile4", "RegisterTile6", "StackedTile<RegisterTile4,RegisterTile4>", "StackedTile<RegisterTile6,RegisterTile6>",
                     "WideTile<RegisterTile4>", "WideTile<RegisterTile6>", "WideTile<StackedTile<RegisterTile4,RegisterTile4>>" })
            Assert.Contains($"Conv2dKernels.Conv2dWeightGradImplicit<{tile}>", closed);
    }

    static readonly (CudaArchitecture Architecture, CudaInstructionSet Isa, string Sm)[] PtxTargets =
    [
        (CudaArchitecture.SM_60, CudaInstructionSet.ISA_60, "sm_60"),
        (CudaArchitecture.SM_75, CudaInstructionSet.ISA_64, "sm_75"),
        (CudaArchitecture.SM_80, CudaInstructionSet.ISA_70, "sm_80"),
        (CudaArchitecture.SM_90, CudaInstructionSet.ISA_78, "sm_90"),
    ];

    static string CompilePtx(MethodInfo kernel, CudaArchitecture architecture, CudaInstructionSet isa)
    {
        using var context = Context.Create(b => b.CPU().EnableAlgorithms().EnableFusedMultiplyAdd());
        using var backend = new PTXBackend(context, new CudaCapabilityContext(architecture), architecture, isa, null!);
        return ((PTXCompiledKernel)backend.Compile(Describe(kernel), new KernelSpecialization())).PTXAssembly;
    }

    /// <summary>
    /// Each kernel's PTX per target, compiled once in the test process: the compile test and the
    /// ptxas test both need it, and compiling every kernel for four targets takes minutes.
    /// </summary>
    static readonly ConcurrentDictionary<(string Name, string Sm), Lazy<string>> Ptx = new();

    static string PtxOf(string name, (CudaArchitecture Architecture, CudaInstructionSet Isa, string Sm) target) =>
        Ptx.GetOrAdd((name, target.Sm), _ => new Lazy<string>(() => CompilePtx(Find(name), target.Architecture, target.Isa))).Value;

    [Theory]
    [MemberData(nameof(KernelNames))]
    public void CompilesToPtxForEverySmTarget(string name)
    {
        foreach (var target in PtxTargets)
        {
            string ptx = PtxOf(name, target);
            Assert.Contains(".entry", ptx);
            Assert.Contains(".version", ptx);
        }
    }

    /// <summary>
    /// NVIDIA's assembler takes every kernel's PTX for sm_60, sm_75, sm_80 and sm_90 with no
    /// error, and with no spill every kernel a GPU plan launches: the implicit convolutions'
    /// stacked and wide tiles (8 and 12 rows, 32 filters: for CPUs' registers) are CPU tiles, as
    /// GPU plans keep 4×16 (<see cref="LaunchPlan.Tile"/>), and so are the kernels of
    /// <see cref="CpuPlanKernels"/>. Skips (saying so) without ptxas;
    /// GPUCNN_REQUIRE_PTXAS=1 (CI) makes that a failure. With GPUCNN_PTXAS_REPORT=FILE it also
    /// writes each kernel's registers.
    /// </summary>
    /// <summary>
    /// Kernels (Class.Method, with every tile and transform) that only CPU plans launch, never a GPU
    /// plan: batch norm's sums for work-items that take runs of items (<see cref="LaunchPlan.Streams"/>,
    /// PoCL's), the fused Winograd kernel and the Winograd weight gradient, groups of one
    /// work-item holding their tiles in 512-bit pairs, and the weight gradient by kernel rows, three
    /// tiles a work-item (tiles the tuner measures; a GPU plan names 4×16).
    /// </summary>
    static readonly HashSet<string> CpuPlanKernels =
    [
        "BatchNormKernels.BatchNormBackwardReduceQuads", "BatchNormKernels.BatchNormChunkStatisticsQuads",
        "Conv2dWinogradKernels.Conv2dWinogradFused", "Conv2dWinogradKernels.Conv2dWinogradWeightGrad",
        "Conv2dKernels.Conv2dWeightGradKernelRow",
    ];

    [Theory]
    [MemberData(nameof(KernelNames))]
    public void PtxAssemblesWithNoSpills(string name)
    {
        string ptxas = Ptxas.Find();
        var registers = new List<string>();
        foreach (var target in PtxTargets)
        {
            string sm = target.Sm;
            var result = Ptxas.Assemble(ptxas, PtxOf(name, target), sm);
            Assert.True(result.ExitCode == 0, $"ptxas -arch={sm} failed for {name}:\n{result.Output}");
            if (!name.Contains("StackedTile", StringComparison.Ordinal) && !name.Contains("WideTile", StringComparison.Ordinal)
                && !CpuPlanKernels.Contains(name.Split('<')[0]))
                Assert.True(result.SpillBytes == 0, $"{name} spills {result.SpillBytes} bytes on {sm}:\n{result.Output}");
            registers.Add(result.Registers.ToString());
        }
        Ptxas.Report(name, registers);
    }

    /// <summary>The OpenCL C that GpuCnn's devices compile: FusedMath.MultiplyAdd registered as fma.</summary>
    static string CompileOpenCL(MethodInfo kernel)
    {
        using var context = Context.Create(b => b.CPU().EnableAlgorithms().EnableFusedMultiplyAdd());
        var capabilities = new CLCapabilityContext(float16: false, float64: true, genericAddressSpace: true, int64_Atomics: true, subGroups: true);
        using var backend = new CLBackend(context, capabilities, CLDeviceVendor.Nvidia, CLCVersion.CL20);
        return ((CLCompiledKernel)backend.Compile(Describe(kernel), new KernelSpecialization())).Source;
    }

    [Theory]
    [MemberData(nameof(KernelNames))]
    public void CompilesToOpenCLC(string name) => Assert.Contains("kernel", CompileOpenCL(Find(name)));

    /// <summary>
    /// Each entry point is declared "kernel void": OpenCLBuildFlags.Prefer512 redefines that
    /// keyword to mark every kernel for 512-bit vectors on PoCL.
    /// </summary>
    [Theory]
    [InlineData("GemmKernels.GemmRegisterTilePerItem")]
    [InlineData("Conv2dKernels.Conv2dForwardImplicit<StackedTile<RegisterTile6,RegisterTile6>>")]
    [InlineData("BatchNormKernels.BatchNormForward")]
    public void EntryPointsAreDeclaredWithTheKernelKeyword(string name) =>
        Assert.Matches(@"(?m)^kernel void \w+\(", CompileOpenCL(Find(name)));

    /// <summary>The GEMM and convolution inner loops reach OpenCL as fma calls, eight per Float8 multiply-add.</summary>
    [Theory]
    [InlineData("GemmKernels.GemmRegisterTilePerItem")]
    [InlineData("Conv2dKernels.Conv2dForwardImplicit<RegisterTile4>")]
    [InlineData("Conv2dKernels.Conv2dForwardImplicit<RegisterTile6>")]
    [InlineData("Conv2dKernels.Conv2dWeightGradImplicit<RegisterTile4>")]
    [InlineData("Conv2dKernels.Conv2dWeightGradImplicit<RegisterTile6>")]
    [InlineData("Conv2dKernels.Conv2dForwardImplicit<StackedTile<RegisterTile6,RegisterTile6>>")]
    [InlineData("Conv2dKernels.Conv2dWeightGradImplicit<StackedTile<RegisterTile4,RegisterTile4>>")]
    [InlineData("Conv2dKernels.Conv2dForwardImplicit<WideTile<RegisterTile6>>")]
    public void MultiplyAddsCompileToOpenCLFma(string name)
    {
        int calls = System.Text.RegularExpressions.Regex.Matches(CompileOpenCL(Find(name)), @"\bfma\s*\(").Count;
        Assert.True(calls >= 64, $"{name}: {calls} fma calls in its OpenCL C, expected at least 64 (8 Float8 multiply-adds)");
    }
}
