using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using ILGPU.Runtime.OpenCL;

namespace GpuCnn.Devices;

/// <summary>
/// What PoCL's compiler is asked for beside ILGPU's own build options (ILGPU passes only
/// -cl-std): PoCL appends the POCL_EXTRA_BUILD_FLAGS environment variable to every program it
/// builds, reading it at each build, so a kernel compiled under <see cref="Building"/> gets it.
///
/// On AVX-512 hosts Debian's PoCL compiles for "skylake-avx512" whatever the CPU, and LLVM's
/// tuning for that CPU prefers 256-bit vectors: PoCL's vectoriser then runs 8 work-items per
/// instruction, half of what the host can (objdump of its kernel cache: 1,089 ymm against 16
/// zmm instructions in the seed model's kernels). PoCL refuses -mprefer-vector-width and
/// -mllvm among build options, and takes its target CPU from its kernel library, not from
/// POCL_LLVM_CPU_NAME. What it does take is -D: <see cref="Prefer512"/> redefines the keyword
/// ILGPU declares every kernel with, so that each kernel carries the attribute
/// target("tune=znver4"). That changes LLVM's tuning only, not the instruction set; Zen 4's
/// tuning has no 256-bit preference, so the vectoriser fills 512-bit registers.
/// </summary>
public static class OpenCLBuildFlags
{
    public const string Variable = "POCL_EXTRA_BUILD_FLAGS";

    /// <summary>
    /// PoCL strips double quotes from build options, so the attribute's string is made by the
    /// preprocessor (GPUCNN_STRING); ILGPU writes each kernel as "kernel void Name(...)", with the
    /// functions it calls inlined into it.
    /// </summary>
    public const string Prefer512 = "-DGPUCNN_STRING(x)=#x -Dkernel=__attribute__((target(GPUCNN_STRING(tune=znver4))))__kernel";

    /// <summary>The flags the user set before GpuCnn started (kept, and put first).</summary>
    static readonly string? UserFlags = Environment.GetEnvironmentVariable(Variable);

    /// <summary>Builds run one at a time, so that each reads the flags set for it.</summary>
    static readonly object BuildLock = new();

    /// <summary>
    /// The vector width to ask of an OpenCL device: 512 on PoCL's CPU device of an AVX-512 host,
    /// else 0 (the compiler's own choice).
    /// </summary>
    public static int WidestVectorBits(CLDevice device) =>
        device.DeviceType == CLDeviceType.CL_DEVICE_TYPE_CPU && IsPocl(device.PlatformName) && Avx512F.IsSupported ? 512 : 0;

    internal static bool IsPocl(string platformName) => platformName.Contains("Portable Computing Language", StringComparison.Ordinal);

    /// <summary>POCL_EXTRA_BUILD_FLAGS for a build that asks for <paramref name="vectorBits"/> (512 or 0), after the user's own.</summary>
    public static string? For(int vectorBits, string? userFlags) => vectorBits switch
    {
        0 => userFlags,
        512 => string.IsNullOrWhiteSpace(userFlags) ? Prefer512 : $"{userFlags} {Prefer512}",
        _ => throw new ArgumentOutOfRangeException(nameof(vectorBits), vectorBits, "a vector width is 512 bits or 0 (the compiler's choice)"),
    };

    /// <summary>
    /// Runs <paramref name="load"/> (which compiles a kernel: ILGPU builds the program as it
    /// loads it) with the flags for <paramref name="vectorBits"/> set, then puts the user's back,
    /// so that other OpenCL code in the process builds as it would without GpuCnn.
    /// </summary>
    public static T Building<T>(int vectorBits, Func<T> load)
    {
        lock (BuildLock)
        {
            Set(For(vectorBits, UserFlags));
            try
            {
                return load();
            }
            finally
            {
                Set(UserFlags);
            }
        }
    }

    /// <summary>
    /// Sets the variable where PoCL reads it: .NET keeps its own copy of the environment on Unix,
    /// so the C library's copy is set through setenv.
    /// </summary>
    static void Set(string? value)
    {
        if (OperatingSystem.IsWindows())
            Environment.SetEnvironmentVariable(Variable, value);
        else if (value is null)
            UnsetEnv(Variable);
        else
            SetEnv(Variable, value, 1);
    }

    [DllImport("libc", EntryPoint = "setenv", CharSet = CharSet.Ansi)]
    static extern int SetEnv(string name, string value, int overwrite);

    [DllImport("libc", EntryPoint = "unsetenv", CharSet = CharSet.Ansi)]
    static extern int UnsetEnv(string name);
}
