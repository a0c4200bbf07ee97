using GpuCnn.Kernels;
using GpuCnn.Tensors;
using ILGPU;
using ILGPU.Runtime;

namespace GpuCnn.Tests.Kernels;

/// <summary>
/// FusedMath.MultiplyAdd rounds once on OpenCL (fma) and twice on the CPU accelerator, told apart
/// by a product whose low bits the first rounding drops: a = b = 1 + 2⁻¹², c = -(1 + 2⁻¹¹), so
/// a·b + c = 2⁻²⁴ exactly, while round(a·b) + c = 0.
/// </summary>
[Collection("devices")]
public sealed class FusedMathTests(TestDevices devices)
{
    static void MultiplyAddKernel(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> result) =>
        result[i] = FusedMath.MultiplyAdd(a[i], b[i], c[i]);

    [Theory]
    [MemberData(nameof(TestDevices.Plans), MemberType = typeof(TestDevices))]
    public void MultiplyAddRoundsOnceOnOpenCLAndTwiceOnTheCpuAccelerator(string plan)
    {
        var device = devices[plan];
        float a = 1f + MathF.Pow(2, -12), c = -(1f + MathF.Pow(2, -11));
        using var ta = Tensor.Zeros(device, 1);
        using var tc = Tensor.Zeros(device, 1);
        using var result = Tensor.Zeros(device, 1);
        ta.CopyFrom([a]);
        tc.CopyFrom([c]);
        var kernel = device.Accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(MultiplyAddKernel);
        kernel(1, ta.View, ta.View, tc.View, result.View);
        float expected = device.Accelerator.AcceleratorType == AcceleratorType.OpenCL ? MathF.Pow(2, -24) : 0f;
        Assert.Equal(expected, result.ToArray()[0]);
    }
}
