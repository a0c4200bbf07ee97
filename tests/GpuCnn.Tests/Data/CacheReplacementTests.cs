using GpuCnn.Data;

namespace GpuCnn.Tests.Data;

/// <summary>
/// A fetch that dies at any step of replacing the cache leaves the old complete set or the new
/// one, never a mix: the next use of the cache finishes or discards the replacement.
/// </summary>
public sealed class CacheReplacementTests
{
    sealed class SimulatedKill : Exception;

    static (ImageSet Train, ImageSet Test) Set(int seed)
    {
        var random = new Random(seed);
        ImageSet Images(int count)
        {
            var pixels = new byte[count * 784];
            var labels = new byte[count];
            random.NextBytes(pixels);
            for (int i = 0; i < count; i++) labels[i] = (byte)random.Next(10);
            return new ImageSet(pixels, labels, 28, 28);
        }
        return (Images(12), Images(5));
    }

    static void Replace(FashionMnistStore store, (ImageSet Train, ImageSet Test) set, string source) =>
        store.Replace(staging =>
        {
            FashionMnistStore.WriteSet(staging, set.Train, set.Test);
            return source;
        });

    static void AssertHolds(ImageDataset data, (ImageSet Train, ImageSet Test) set)
    {
        Assert.Equal(set.Train.Pixels, data.Train.Pixels);
        Assert.Equal(set.Train.Labels, data.Train.Labels);
        Assert.Equal(set.Test.Pixels, data.Test.Pixels);
        Assert.Equal(set.Test.Labels, data.Test.Labels);
    }

    /// <summary>Every step a replacement reports, in order, from one uninterrupted replacement.</summary>
    static List<string> Steps()
    {
        var steps = new List<string>();
        var store = new FashionMnistStore(new DataOptions { CacheDir = SyntheticData.TempFolder() }) { AfterStep = steps.Add };
        Replace(store, Set(1), "old");
        return steps;
    }

    public static TheoryData<int> StepIndices() => [.. Enumerable.Range(0, Steps().Count)];

    [Theory]
    [MemberData(nameof(StepIndices))]
    public void AReplacementKilledAtAnyStepLeavesTheOldSetOrTheNew(int killedAfter)
    {
        string cache = SyntheticData.TempFolder();
        var options = new DataOptions { CacheDir = cache };
        var (oldSet, newSet) = (Set(1), Set(2));
        Replace(new FashionMnistStore(options), oldSet, "old");

        var steps = Steps();
        int seen = 0;
        var dying = new FashionMnistStore(options) { AfterStep = _ => { if (seen++ == killedAfter) throw new SimulatedKill(); } };
        Assert.Throws<SimulatedKill>(() => Replace(dying, newSet, "new"));

        var data = new FashionMnistStore(options).Load();
        bool committed = killedAfter >= steps.IndexOf("set ready");
        AssertHolds(data, committed ? newSet : oldSet);
        Assert.Contains(committed ? "(from new)" : "(from old)", data.Source);
        Assert.False(Directory.Exists(Path.Combine(cache, ".incoming")));
    }

    [Fact]
    public void AStagedSetThatFailsToReadIsNeverMoved()
    {
        string cache = SyntheticData.TempFolder();
        var options = new DataOptions { CacheDir = cache };
        var oldSet = Set(1);
        Replace(new FashionMnistStore(options), oldSet, "old");
        var e = Assert.Throws<DataFileException>(() => new FashionMnistStore(options).Replace(staging =>
        {
            File.WriteAllBytes(Path.Combine(staging, FashionMnist.OfficialFiles[0].File), [1, 2, 3]);
            return "broken";
        }));
        Assert.Contains(".incoming", e.Path);
        AssertHolds(new FashionMnistStore(options).Load(), oldSet);
    }
}
