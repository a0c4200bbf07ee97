using GpuCnn.Devices;
using GpuCnn.Kernels;
using GpuCnn.Tensors;
using ILGPU;

namespace GpuCnn.Tests.Kernels;

[Collection("devices")]
public sealed class GemmKernelTests(TestDevices devices)
{
    /// <summary>Each plan's own GEMM, and on the GPU-shaped plans the textbook shared-memory GEMM too.</summary>
    static IEnumerable<(string Plan, GemmVariant? Variant)> PlanVariants()
    {
        foreach (string plan in TestDevices.PlanNames)
        {
            yield return (plan, null);
            if (plan is "gpu" or TestDevices.OpenCLGpu or TestDevices.Cuda) yield return (plan, GemmVariant.SharedTiled);
        }
    }

    public static TheoryData<string, GemmVariant?, int, int, int, bool, bool> Shapes()
    {
        var data = new TheoryData<string, GemmVariant?, int, int, int, bool, bool>();
        foreach (var (plan, variant) in PlanVariants())
        {
            void Add(int m, int n, int k, bool ta, bool tb) =>
                data.Add(TestDevices.Traited(new TheoryDataRow<string, GemmVariant?, int, int, int, bool, bool>(plan, variant, m, n, k, ta, tb), plan));
            // Tiled shapes (N a multiple of 16), odd M and K, and shapes that only the generic path takes.
            Add(5, 16, 3, false, false);
            Add(37, 32, 19, false, false);
            Add(1, 48, 7, false, false);
            Add(9, 32, 130, true, false);
            Add(33, 64, 10, false, true);
            Add(7, 10, 13, false, false);
            Add(13, 24, 5, true, true);
            // K longer than a reduction chunk: split-K on every GPU-shaped plan.
            Add(6, 32, 1100, true, false);
            Add(7, 10, 1030, false, false);
            // Several 64×64 blocks of the register-blocked GEMM, with ragged edges.
            Add(150, 80, 70, false, false);
            Add(70, 130, 40, true, true);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void GemmMatchesReference(string plan, GemmVariant? variant, int m, int n, int k, bool transposeA, bool transposeB)
    {
        var device = devices[plan];
        var gemm = variant ?? device.Plan.Gemm;
        CheckGemm(device, m, n, k, transposeA, transposeB, (a, b, c, bias, g) => device.Kernels.Gemm(gemm, a, b, c, bias, g));
    }

    public static TheoryData<string, GemmVariant?, int, int, int, bool, bool> PlanShapes()
    {
        var data = new TheoryData<string, GemmVariant?, int, int, int, bool, bool>();
        foreach (var row in Shapes())
            if (row.Data.Item2 is null) data.Add(row);
        return data;
    }

    /// <summary>
    /// The same shapes through the entry the layers call, with the plan's own GEMM: on the plan that
    /// measures its register tiles (opencl-cpu), a·b and aᵀ·b with N a multiple of 16 run as a 1×1
    /// convolution's forward pass and weight gradient, with the epilogue.
    /// </summary>
    [Theory]
    [MemberData(nameof(PlanShapes))]
    public void GemmThroughThePlansEntryMatchesReference(string plan, GemmVariant? variant, int m, int n, int k, bool transposeA, bool transposeB)
    {
        Assert.Null(variant);
        var device = devices[plan];
        CheckGemm(device, m, n, k, transposeA, transposeB, device.Kernels.Gemm);
    }

    /// <summary>c = a·b (a, b transposed as asked), then with bias and ReLU, each against the double-precision reference.</summary>
    static void CheckGemm(ComputeDevice device, int m, int n, int k, bool transposeA, bool transposeB,
        Action<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>?, GemmArgs> gemm)
    {
        var a = TestData.Uniform(m * k, 1);
        var b = TestData.Uniform(k * n, 2);
        var bias = TestData.Uniform(n, 3);
        using var da = Tensor.Zeros(device, m * k);
        using var db = Tensor.Zeros(device, k * n);
        using var dc = Tensor.Zeros(device, m * n);
        using var dbias = Tensor.Zeros(device, n);
        da.CopyFrom(a);
        db.CopyFrom(b);
        dbias.CopyFrom(bias);
        var product = Reference.Gemm(a.ToDouble(), b.ToDouble(), m, n, k, transposeA, transposeB);

        gemm(da.View, db.View, dc.View, null, GemmArgs.RowMajor(m, n, k, transposeA, transposeB));
        TestData.AssertClose(dc.ToArray(), product);

        gemm(da.View, db.View, dc.View, dbias.View, GemmArgs.RowMajor(m, n, k, transposeA, transposeB).WithEpilogue(true, true));
        var withEpilogue = product.Select((v, i) => Math.Max(0, v + bias[i % n])).ToArray();
        TestData.AssertClose(dc.ToArray(), withEpilogue);
    }

    [Theory]
    [InlineData("cpu", 37, 19)]
    [InlineData("gpu", 5, 3)]
    [InlineData("generic", 64, 129)]
    [InlineData("gpu", 1030, 24)]
    [InlineData(TestDevices.OpenCLGpu, 2100, 16, Traits = [TestDevices.PlanTrait, TestDevices.OpenCLGpu])]
    [InlineData(TestDevices.Cuda, 2100, 16, Traits = [TestDevices.PlanTrait, TestDevices.Cuda])]
    [InlineData(TestDevices.OpenCLCpu, 37, 19)]
    // Eight-column groups four side by side, chunks of 8 rows and a short last one, then the chunks' sums.
    [InlineData(TestDevices.OpenCLCpu, 37, 40)]
    public void TransposeAndColumnSumMatchReference(string plan, int rows, int cols)
    {
        var device = devices[plan];
        var m = TestData.Uniform(rows * cols, 4);
        using var source = Tensor.Zeros(device, rows * cols);
        using var target = Tensor.Zeros(device, rows * cols);
        using var sums = Tensor.Zeros(device, cols);
        source.CopyFrom(m);
        device.Kernels.Transpose(source.View, target.View, rows, cols);
        var transposed = target.ToArray();
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) Assert.Equal(m[r * cols + c], transposed[c * rows + r]);
        device.Kernels.ColumnSum(source.View, sums.View, rows, cols);
        var expected = Enumerable.Range(0, cols).Select(c => Enumerable.Range(0, rows).Sum(r => (double)m[r * cols + c])).ToArray();
        TestData.AssertClose(sums.ToArray(), expected);
    }

    [Fact]
    public void ColumnSumTakesTheVectorPathForMultiplesOfEight()
    {
        var device = devices.Cpu;
        const int Rows = 23, Cols = 40;
        var m = TestData.Uniform(Rows * Cols, 5);
        using var source = Tensor.Zeros(device, Rows * Cols);
        using var sums = Tensor.Zeros(device, Cols);
        source.CopyFrom(m);
        device.Kernels.ColumnSum(source.View, sums.View, Rows, Cols);
        var expected = Enumerable.Range(0, Cols).Select(c => Enumerable.Range(0, Rows).Sum(r => (double)m[r * Cols + c])).ToArray();
        TestData.AssertClose(sums.ToArray(), expected);
    }
}
