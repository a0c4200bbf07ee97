using GpuCnn.Devices;

namespace GpuCnn.Tests.Devices;

/// <summary>The measured choice between equivalent kernel variants: the faster one, kept in the device's file, measured once.</summary>
[Collection("devices")]
public sealed class KernelTunerTests(TestDevices devices)
{
    [Fact]
    public void ChoosesTheFasterCandidateAndRemembersItInItsFile()
    {
        string file = Path.Combine(SyntheticData.TempFolder(), "tuning", "device.json");
        var runs = new List<int>();
        void Run(int candidate)
        {
            runs.Add(candidate);
            Thread.Sleep(candidate == 4 ? 20 : 1);
        }
        var tuner = new KernelTuner(devices.Cpu.Accelerator, file);
        Assert.Equal(6, tuner.Choose("conv 8x8", [4, 6], Run));
        // Once each to warm up, then alternating rounds.
        Assert.Equal([4, 6, .. Enumerable.Repeat<int[]>([4, 6], KernelTuner.Rounds).SelectMany(r => r)], runs);
        Assert.Equal(6, tuner.Choose("conv 8x8", [4, 6], Run));
        Assert.Equal(2 + 2 * KernelTuner.Rounds, runs.Count);

        // Another process's tuner reads the choice and measures nothing; a new key adds to the file.
        runs.Clear();
        var again = new KernelTuner(devices.Cpu.Accelerator, file);
        Assert.Equal(6, again.Choose("conv 8x8", [4, 6], Run));
        Assert.Empty(runs);
        Assert.Equal(4, again.Choose("conv 4x4", [4, 6], c => Thread.Sleep(c == 6 ? 20 : 1)));
        Assert.Equal(new Dictionary<string, int> { ["conv 4x4"] = 4, ["conv 8x8"] = 6 }, again.Used);
        var third = new KernelTuner(devices.Cpu.Accelerator, file);
        Assert.Equal(new Dictionary<string, int> { ["conv 4x4 among 4 6"] = 4, ["conv 8x8 among 4 6"] = 6 }, third.Choices);
        Assert.Empty(third.Used);
        // Beside each choice, every candidate's fastest run: the chosen one's the shorter.
        var times = third.Fastest["conv 8x8 among 4 6"];
        Assert.Equal(["4", "6"], times.Keys);
        Assert.True(times["6"] < times["4"] && times["4"] >= 19, string.Join(", ", times));
        // Other candidates are measured again: a choice that is no longer one, and a new one.
        Assert.Equal(8, again.Choose("conv 8x8", [8], _ => { }));
        runs.Clear();
        Assert.Equal(12, again.Choose("conv 8x8", [4, 6, 12], c => { runs.Add(c); Thread.Sleep(c == 12 ? 1 : 20); }));
        Assert.Contains(12, runs);
    }

    [Fact]
    public void ADamagedFileIsMeasuredAgainAndRewritten()
    {
        string file = Path.Combine(SyntheticData.TempFolder(), "device.json");
        File.WriteAllText(file, "{\"conv\": 4, trunc");
        var tuner = new KernelTuner(devices.Cpu.Accelerator, file);
        Assert.Empty(tuner.Choices);
        Assert.Equal(6, tuner.Choose("conv", [4, 6], c => Thread.Sleep(c == 4 ? 20 : 1)));
        Assert.Equal(6, new KernelTuner(devices.Cpu.Accelerator, file).Choices[KernelTuner.StoredKey("conv", [4, 6])]);
    }

    [Fact]
    public void ChoicesMeasuredWithOtherKernelsAreMeasuredAgain()
    {
        string file = Path.Combine(SyntheticData.TempFolder(), "device.json");
        Assert.Equal(6, new KernelTuner(devices.Cpu.Accelerator, file, kernels: "build-1").Choose("conv", [4, 6], c => Thread.Sleep(c == 4 ? 20 : 1)));
        Assert.Equal(6, new KernelTuner(devices.Cpu.Accelerator, file, kernels: "build-1").Choices[KernelTuner.StoredKey("conv", [4, 6])]);
        // After an update of the kernels the old choice is not taken: measured again, and the file rewritten.
        var updated = new KernelTuner(devices.Cpu.Accelerator, file, kernels: "build-2");
        Assert.Empty(updated.Choices);
        Assert.Equal(4, updated.Choose("conv", [4, 6], c => Thread.Sleep(c == 6 ? 20 : 1)));
        Assert.Equal(4, new KernelTuner(devices.Cpu.Accelerator, file, kernels: "build-2").Choices[KernelTuner.StoredKey("conv", [4, 6])]);
        Assert.Empty(new KernelTuner(devices.Cpu.Accelerator, file, kernels: "build-1").Choices);
        // A file without the times (as written before they were kept) keeps its choices.
        File.WriteAllText(file, "{\"Kernels\": \"build-3\", \"Choices\": {\"conv among 4 6\": 6}}");
        var withoutTimes = new KernelTuner(devices.Cpu.Accelerator, file, kernels: "build-3");
        Assert.Equal(6, withoutTimes.Choices[KernelTuner.StoredKey("conv", [4, 6])]);
        Assert.Empty(withoutTimes.Fastest);
        // A file of the earlier format, a bare dictionary, is measured again too.
        File.WriteAllText(file, "{\"conv\": 4}");
        Assert.Empty(new KernelTuner(devices.Cpu.Accelerator, file).Choices);
    }

    [Fact]
    public void ACacheThatCannotBeWrittenCostsOnlyTheMeasurement()
    {
        // The tuning folder's place is taken by a file, so neither the folder nor the file can be made.
        string blocker = Path.Combine(SyntheticData.TempFolder(), "tuning");
        File.WriteAllText(blocker, "not a folder");
        var tuner = new KernelTuner(devices.Cpu.Accelerator, Path.Combine(blocker, "device.json"));
        Assert.Equal(6, tuner.Choose("conv", [4, 6], c => Thread.Sleep(c == 4 ? 20 : 1)));
        Assert.Equal(6, tuner.Choose("conv", [4, 6], _ => throw new InvalidOperationException("measured twice")));
        Assert.Equal("not a folder", File.ReadAllText(blocker));
    }

    [Fact]
    public void EachDeviceHasItsOwnFileInTheTuningFolder()
    {
        var avx512 = new DeviceInfo(DeviceKind.OpenCL, "cpu-skylake-avx512-Intel(R) Xeon(R) Processor", 1, 0, 4096, 2, "-");
        var avx2 = avx512 with { Name = "cpu-znver3-AMD EPYC 7B13" };
        string file = KernelTuner.FileFor(avx512);
        // $GPUCNN_TUNING names the folder: the tests set their own (TestTuningFolder), not the cache folder's.
        Assert.Equal(Environment.GetEnvironmentVariable("GPUCNN_TUNING"), Path.GetDirectoryName(file));
        Assert.NotEqual(Path.Combine(GpuCnn.IO.CacheFolder.Root(), "tuning"), Path.GetDirectoryName(file));
        Assert.Matches("^[A-Za-z0-9._-]+$", Path.GetFileName(file));
        Assert.NotEqual(file, KernelTuner.FileFor(avx2));
        Assert.NotEqual(file, KernelTuner.FileFor(avx512, vectorBits: 512));
        Assert.EndsWith("-v512.json", KernelTuner.FileFor(avx512, vectorBits: 512));
    }
}
