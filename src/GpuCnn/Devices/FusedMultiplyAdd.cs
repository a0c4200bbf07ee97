using GpuCnn.Kernels;
using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.IL;
using ILGPU.Backends.OpenCL;
using ILGPU.Backends.PTX;
using ILGPU.IR;
using ILGPU.IR.Intrinsics;
using ILGPU.IR.Values;

namespace GpuCnn.Devices;

/// <summary>
/// The backends' mappings of <see cref="FusedMath.MultiplyAdd"/>. OpenCL gets <c>fma(a, b, c)</c>:
/// otherwise ILGPU writes the multiply and the add as two statements, which PoCL (strict math)
/// keeps apart, and an FMA-capable CPU retires half the arithmetic it could. The CPU accelerator
/// and CUDA get the plain a·b + c (on CUDA ptxas contracts it into an FMA itself).
/// </summary>
public static class FusedMultiplyAdd
{
    /// <summary>Registers the mappings in a context being built; every context that compiles GpuCnn's kernels needs them.</summary>
    public static Context.Builder EnableFusedMultiplyAdd(this Context.Builder builder)
    {
        var method = typeof(FusedMath).GetMethod(nameof(FusedMath.MultiplyAdd))!;
        var manager = builder.GetIntrinsicManager();
        manager.RegisterMethod(method, new CLIntrinsic(typeof(FusedMultiplyAdd), nameof(GenerateOpenCL), IntrinsicImplementationMode.GenerateCode));
        manager.RegisterMethod(method, new PTXIntrinsic(typeof(FusedMultiplyAdd), nameof(TwoRoundings), IntrinsicImplementationMode.Redirect));
        manager.RegisterMethod(method, new CpuIntrinsic(typeof(FusedMultiplyAdd), nameof(TwoRoundings), IntrinsicImplementationMode.Redirect));
        return builder;
    }

    /// <summary>What CUDA and the CPU accelerator compute.</summary>
    static float TwoRoundings(float a, float b, float c) => a * b + c;

    /// <summary>ILGPU's code-generation hook for OpenCL: target = fma(a, b, c).</summary>
    static void GenerateOpenCL(CLBackend backend, CLCodeGenerator codeGenerator, Value value)
    {
        var call = (MethodCall)value;
        var a = codeGenerator.Load(call[0]);
        var b = codeGenerator.Load(call[1]);
        var c = codeGenerator.Load(call[2]);
        var target = codeGenerator.Allocate(value);
        using var statement = codeGenerator.BeginStatement(target);
        statement.AppendCommand("fma");
        statement.BeginArguments();
        statement.AppendArgument(a);
        statement.AppendArgument(b);
        statement.AppendArgument(c);
        statement.EndArguments();
    }

    /// <summary>A mapping for the CPU accelerator's IL backend (ILGPU has no public one).</summary>
    sealed class CpuIntrinsic(Type handlerType, string methodName, IntrinsicImplementationMode mode)
        : IntrinsicImplementation(BackendType.IL, handlerType, methodName, mode)
    {
        protected override bool CanHandleBackend(Backend backend) => backend is ILBackend;
    }
}
