using GpuCnn.Devices;
using GpuCnn.Layers;
using GpuCnn.Models;
using GpuCnn.Tensors;
using GpuCnn.Training;
using ILGPU;
using ILGPU.Runtime.CPU;

namespace GpuCnn.Tests.Devices;

/// <summary>
/// No kernel starves a GPU: one training step and one evaluation batch of each model at the
/// default batch (128) and at a large one, on the GPU plan as a GPU gets it (16×16 tiles, chunks
/// of 1,024), recorded launch by launch without running (a dry run: shapes do not depend on
/// values). Every work-item must loop over at most LaunchPlan.MaxSerialLoop output or reduction
/// elements, and every launch must fit CUDA's grid limits. The GPU kit runs the whole class
/// (-trait kit=launch-shapes), on the GPU the CUDA case too.
/// </summary>
[Trait("kit", "launch-shapes")]
public sealed class LaunchShapeTests
{
    static readonly System.Collections.Concurrent.ConcurrentDictionary<(string, string, int), List<LaunchRecord>> recorded = new();

    /// <summary>The launches of one training step and one inference batch (recorded once per case).</summary>
    static List<LaunchRecord> RecordStep(string modelName, LaunchPlan plan, int batch) =>
        recorded.GetOrAdd((modelName, plan.Name, batch), _ =>
        {
            using var device = ComputeDevice.OpenCpu(new CPUDevice(2, 1, 1), plan);
            return Record(modelName, device, batch);
        });

    static List<LaunchRecord> Record(string modelName, ComputeDevice device, int batch)
    {
        var records = new List<LaunchRecord>();
        using var model = ModelZoo.Create(modelName).Build(device, batch, 1);
        using var optimizer = Optimizer.Create("adam", device, model.ParameterBuffer, model.GradientBuffer, 1e-3f);
        using var loss = new SoftmaxCrossEntropy(device, batch, ModelZoo.Classes);
        using var input = Tensor.Zeros(device, [batch, .. model.InputShape]);
        using var labels = device.Accelerator.Allocate1D<int>(batch);
        device.Kernels.Observer = records.Add;
        device.Kernels.DryRun = true;
        var logits = model.Forward(input, new PassContext(true, 1));
        using var totals = new LossTotals(device);
        model.Backward(loss.Forward(logits, labels.View, totals));
        optimizer.Step();
        loss.Forward(model.Forward(input, new PassContext(false, 1)), labels.View, totals);
        device.Kernels.DryRun = false;
        device.Kernels.Observer = null;
        return records;
    }

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var model in ModelZoo.Names)
        {
            data.Add(model, 128);
            // Past 1,338, where the ResNet stem once overflowed grid Y. The dry run still allocates
            // the model, and resnet20/32 (the same stem) would need 14-20 GiB of host memory there.
            if (model is not ("resnet20" or "resnet32")) data.Add(model, 1536);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void NoWorkItemLoopsOverMoreThanTheLimit(string model, int batch) =>
        AssertNoLongLoops(RecordStep(model, LaunchPlan.ForGpu(), batch));

    [Theory]
    [MemberData(nameof(Cases))]
    public void EveryLaunchFitsCudaGridLimits(string model, int batch) =>
        AssertGridsFit(RecordStep(model, LaunchPlan.ForGpu(), batch));

    /// <summary>
    /// Both checks on a real CUDA GPU with the plan it gets from its own group and shared-memory
    /// limits, recorded on it (the GPU kit runs this; without a GPU it skips, once).
    /// </summary>
    [Fact]
    [Trait(TestDevices.PlanTrait, TestDevices.Cuda)]
    public void OnACudaGpuWithItsOwnPlanEveryCaseHoldsBoth()
    {
        using var device = TestDevices.RequireCuda(TestDevices.OpenCuda(null));
        Assert.Equal("gpu", device.Plan.Name);
        foreach (var model in ModelZoo.Names)
            foreach (int batch in new[] { 128, 1536 })
            {
                var records = Record(model, device, batch);
                AssertNoLongLoops(records);
                AssertGridsFit(records);
            }
    }

    static void AssertNoLongLoops(List<LaunchRecord> records)
    {
        Assert.Contains(records, r => r.Kernel == "GemmRegisterBlocked");
        var starved = records.Where(r => r.SerialLoop > LaunchPlan.MaxSerialLoop)
            .Select(r => $"{r.Kernel}: {r.WorkItems} work-items, {r.SerialLoop} elements each").ToList();
        Assert.True(starved.Count == 0, "launches that loop too long per work-item:\n" + string.Join("\n", starved));
    }

    static void AssertGridsFit(List<LaunchRecord> records)
    {
        const long MaxGridX = int.MaxValue;
        foreach (var r in records)
        {
            long groups = r.GroupSize > 0 ? (r.WorkItems + r.GroupSize - 1) / r.GroupSize : (r.WorkItems + 31) / 32;
            Assert.True(groups <= MaxGridX, $"{r.Kernel}: {groups} groups");
            Assert.True(r.GroupSize <= 1024, $"{r.Kernel}: groups of {r.GroupSize}");
        }
    }

    /// <summary>The same step on the CPU plan records the CPU's long loops: the test can tell the plans apart.</summary>
    [Fact]
    public void TheCpuPlanIsFlaggedAsSerial()
    {
        var records = RecordStep("seed", LaunchPlan.ForCpu(2), 128);
        Assert.Contains(records, r => r.SerialLoop > LaunchPlan.MaxSerialLoop);
    }

    /// <summary>The grouped GEMMs' grids put M on X: a batch whose M tiles pass 65,535 (CUDA's Y limit) still launches.</summary>
    [Theory]
    [InlineData(GemmVariant.RegisterBlocked)]
    [InlineData(GemmVariant.SharedTiled)]
    public void GroupedGemmsPutTheLongSideOnGridX(GemmVariant variant)
    {
        using var device = ComputeDevice.OpenCpu(new CPUDevice(2, 1, 1), LaunchPlan.ForGpu() with { Gemm = variant });
        var records = new List<LaunchRecord>();
        device.Kernels.Observer = records.Add;
        device.Kernels.DryRun = true;
        int m = 16 * 70_000;
        // The launcher checks its buffers even in a dry run: A is m×9, B 9×16, C m×16.
        using var a = device.Accelerator.Allocate1D<float>((long)m * 9);
        using var b = device.Accelerator.Allocate1D<float>(9 * 16);
        using var c = device.Accelerator.Allocate1D<float>((long)m * 16);
        device.Kernels.Gemm(a.View, b.View, c.View, null, GpuCnn.Kernels.GemmArgs.RowMajor(m, 16, 9));
        var launch = Assert.Single(records);
        int rowsPerGroup = variant == GemmVariant.RegisterBlocked ? 64 : 16;
        Assert.Equal((long)m / rowsPerGroup * 256, launch.WorkItems);
    }

    /// <summary>
    /// The GPU plan's register-blocked groups shrink to what the device's groups take; a device
    /// without the shared memory they stage takes the register tiles instead.
    /// </summary>
    [Theory]
    [InlineData(1024, 48 * 1024, 16, GemmVariant.RegisterBlocked)]
    [InlineData(128, 48 * 1024, 8, GemmVariant.RegisterBlocked)]
    [InlineData(1024, 4096, 16, GemmVariant.RegisterTiled)]
    [InlineData(16, 48 * 1024, 4, GemmVariant.RegisterBlocked)]
    public void GpuPlanTilesFitTheDevice(int maxGroupSize, long sharedBytes, int expectedThreadsPerSide, GemmVariant expectedGemm)
    {
        var plan = LaunchPlan.ForGpu(maxGroupSize, sharedBytes);
        Assert.Equal(expectedThreadsPerSide, plan.SharedTile);
        Assert.Equal(expectedGemm, plan.Gemm);
        Assert.True(plan.SharedTile * plan.SharedTile <= maxGroupSize);
        if (plan.Gemm == GemmVariant.RegisterBlocked) Assert.True(GpuCnn.Kernels.GemmKernels.RegisterBlockedFloats * 4 <= sharedBytes);
    }
}
