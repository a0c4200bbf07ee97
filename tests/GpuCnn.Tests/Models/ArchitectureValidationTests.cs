using System.Text.Json.Nodes;
using GpuCnn.Devices;
using GpuCnn.Layers;
using GpuCnn.Models;

namespace GpuCnn.Tests.Models;

/// <summary>
/// Architectures that cannot run are refused before anything is allocated, in one line naming the
/// layer, the option, the accepted range and the value given; the memory estimate counts what
/// Build allocates.
/// </summary>
[Collection("devices")]
public sealed class ArchitectureValidationTests(TestDevices devices)
{
    /// <summary>conv2d, batch_normalization, max_pooling2d, conv2d_1, flatten, dense, as Keras names them.</summary>
    static JsonObject Small() => new Sequential("small", [28, 28, 1],
    [
        new Conv2D(8, 3, Activation.Relu, Padding.Same),
        new BatchNormalization(),
        new MaxPool2D(2),
        new Conv2D(16, 3, Activation.Relu),
        new Flatten(),
        new Dense(10),
    ]).Architecture();

    static JsonObject With(string layer, string option, JsonNode? value, int index)
    {
        var architecture = Small();
        var config = architecture["layers"]![index]!.AsObject();
        Assert.Equal(layer, KindOf(config));
        config[option] = value;
        return architecture;
    }

    static string KindOf(JsonObject config) => config["kind"]!.GetValue<string>();

    static string Refusal(JsonObject architecture)
    {
        var e = Assert.Throws<ArgumentException>(() => Sequential.FromArchitecture(architecture));
        AssertOneLine(e.Message);
        return e.Message;
    }

    internal static void AssertOneLine(string message)
    {
        Assert.DoesNotContain('\n', message);
        Assert.DoesNotContain('\r', message);
        Assert.DoesNotContain("--", message);
        Assert.DoesNotMatch(@"\bat [\w.`]+\(", message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(100000000)]
    [InlineData(int.MaxValue)]
    public void FiltersOutOfRangeAreRefusedNamingTheLayer(int filters)
    {
        Assert.Equal($"layer conv2d_1: filters must be between 1 and 65536, got {filters}.", Refusal(With("Conv2D", "filters", filters, 3)));
        // The same line for a layer written in code, from Build, before anything is allocated.
        using var model = new Sequential("code", [28, 28, 1], [new Conv2D(filters, 3), new Flatten(), new Dense(10)]);
        var e = Assert.Throws<ArgumentException>(() => model.Build(devices.Cpu, 4, 1));
        Assert.Equal($"layer conv2d: filters must be between 1 and 65536, got {filters}.", e.Message);
        Assert.Throws<InvalidOperationException>(() => model.ParameterBuffer);
    }

    [Theory]
    [InlineData("Conv2D", "kernel_size", -3, 0, "kernel_size must be between 1 and 64, got -3.")]
    [InlineData("Conv2D", "stride", 0, 0, "stride must be between 1 and 64, got 0.")]
    [InlineData("MaxPooling2D", "size", 0, 2, "size must be between 1 and 64, got 0.")]
    [InlineData("Dense", "units", 0, 5, "units must be between 1 and 65536, got 0.")]
    [InlineData("Dense", "units", -1, 5, "units must be between 1 and 65536, got -1.")]
    [InlineData("Dense", "units", 100000000, 5, "units must be between 1 and 65536, got 100000000.")]
    public void SizesOutOfRangeAreRefused(string kind, string option, int value, int index, string expected) =>
        Messages.Says(Refusal(With(kind, option, value, index)), expected);

    [Fact]
    public void RatesOutOfRangeAndWrongTypesAreRefused()
    {
        var dropout = new Sequential("d", [16], [new Dropout(1f), new Dense(10)]);
        Assert.Equal("layer dropout: rate must be at least 0 and below 1, got 1.",
            Assert.Throws<ArgumentException>(() => dropout.Plan(2)).Message);
        Assert.Equal("layer batch_normalization: epsilon must be above 0 and at most 1, got 0.", Refusal(With("BatchNormalization", "epsilon", 0, 1)));
        Assert.Equal("layer conv2d: filters must be a whole number between 1 and 65536, got \"8\".", Refusal(With("Conv2D", "filters", "8", 0)));
        Assert.Equal("layer conv2d: filters must be a whole number between 1 and 65536, got 2.5.", Refusal(With("Conv2D", "filters", 2.5, 0)));
        Assert.Equal("layer conv2d: filters must be a whole number between 1 and 65536, got null.", Refusal(With("Conv2D", "filters", null, 0)));
        Assert.Equal("layer conv2d: use_bias must be true or false, got 1.", Refusal(With("Conv2D", "use_bias", 1, 0)));
        Assert.Equal("layer conv2d: padding must be \"same\" or \"valid\", got \"full\".", Refusal(With("Conv2D", "padding", "full", 0)));
        Assert.Equal("layer dense: activation must be \"relu\" or \"none\", got [].", Refusal(With("Dense", "activation", new JsonArray(), 5)));

        var missing = Small();
        missing["layers"]![3]!.AsObject().Remove("kernel_size");
        Assert.Equal("layer conv2d_1: kernel_size is missing (a whole number between 1 and 64).", Refusal(missing));
        var unknown = Small();
        unknown["layers"]![2]!["kind"] = "Attention";
        Messages.Says(Refusal(unknown), "layer #3: unknown layer kind 'Attention'; the kinds are Conv2D, Dense,");
        var notAnObject = Small();
        notAnObject["layers"]![1] = "batch norm";
        Assert.Equal("model 'small': layer #2 must be a JSON object with kind and options, got \"batch norm\".", Refusal(notAnObject));
    }

    [Fact]
    public void ResidualBlockFiltersOrStrideZeroAreRefused()
    {
        var zeroFilters = new Sequential("r", [8, 8, 8], [new ResidualBlock(0), new GlobalAvgPool2D(), new Dense(10)]);
        Assert.Equal("layer residual_block: filters must be between 1 and 65536, got 0.", Assert.Throws<ArgumentException>(() => zeroFilters.Plan(2)).Message);
        var zeroStride = new Sequential("r", [8, 8, 8], [new ResidualBlock(8, 0), new GlobalAvgPool2D(), new Dense(10)]);
        Assert.Equal("layer residual_block: stride must be between 1 and 64, got 0.", Assert.Throws<ArgumentException>(() => zeroStride.Plan(2)).Message);
    }

    [Fact]
    public void AnEmptyLayerListAndRepeatedNamesAreRefused()
    {
        var empty = Small();
        empty["layers"] = new JsonArray();
        Assert.Equal("model 'small': layers is empty; a model needs at least one layer.", Refusal(empty));
        Assert.Equal("model 'none': has no layers; a model needs at least one.",
            Assert.Throws<ArgumentException>(() => new Sequential("none", [4], []).Plan(1)).Message);

        var repeated = Small();
        repeated["layers"]![3]!["name"] = "conv2d";
        Assert.Equal("layer conv2d: the name is given to layers #1 and #4; layer names must be unique.", Refusal(repeated));
        // A given name that a generated one repeats (the second unnamed Conv2D is conv2d_1).
        var generated = Small();
        generated["layers"]![0]!["name"] = "conv2d_1";
        generated["layers"]![3]!["name"] = "";
        Messages.Says(Refusal(generated), "layer conv2d_1: the name is given to layers #1 and #4");
        var slash = Small();
        slash["layers"]![1]!["name"] = "a/b";
        Messages.Says(Refusal(slash), "layer batch_normalization: a name must not hold '/' or control characters, got \"a/b\"");
        var lineBreak = Small();
        lineBreak["layers"]![1]!["name"] = "a\nb";
        AssertOneLine(Refusal(lineBreak));
    }

    [Fact]
    public void ShapesThatCannotWorkAreRefusedNamingTheLayer()
    {
        var tooLarge = With("Conv2D", "kernel_size", 20, 3);
        Assert.Equal("layer conv2d_1: a 20x20 kernel does not fit its input (14, 14, 8).", Refusal(tooLarge));
        var noFlatten = Small();
        noFlatten["layers"]!.AsArray().RemoveAt(4);
        Messages.Says(Refusal(noFlatten), "layer dense: Dense needs flat input, got (12, 12, 16)");
        var oddChannels = With("Conv2D", "filters", 6, 0);
        Messages.Says(Refusal(oddChannels), "layer batch_normalization: BatchNormalization needs a multiple of 8 channels");
        var shape = Small();
        shape["input_shape"] = new JsonArray(28, 0, 1);
        Assert.Equal("model 'small': input_shape must be between 1 and 65536, got 0.", Refusal(shape));
        Messages.Says(Assert.Throws<ArgumentException>(() => Sequential.FromArchitecture("{\"name\": ")).Message, "the architecture is not JSON:");
        Messages.Says(Assert.Throws<ArgumentException>(() => Sequential.FromArchitecture("[1, 2]")).Message, "the architecture must be a JSON object");
    }

    [Fact]
    public void BuffersPastInt32ElementsAreRefusedWithoutOverflow()
    {
        var wide = new Sequential("wide", [65536, 65536, 1], [new Flatten(), new Dense(10)]);
        Messages.Says(Assert.Throws<ArgumentException>(() => wide.Plan(1)).Message, "model 'wide': its input batch for batches of 1 would hold 4294967296 elements");
        var conv = new Sequential("conv", [4096, 4096, 1], [new Conv2D(8, 5), new GlobalAvgPool2D(), new Dense(10)]);
        Messages.Says(Assert.Throws<ArgumentException>(() => conv.Plan(64)).Message, "layer conv2d: its columns for batches of 64 would hold");
    }

    [Fact]
    public void ASecondHugeConvolutionIsRefusedByTheMemoryEstimate()
    {
        var model = new Sequential("big", [28, 28, 1],
            [new Conv2D(32, 3, Activation.Relu), new Conv2D(16384, 3, Activation.Relu), new GlobalAvgPool2D(), new Dense(10)]);
        var budget = model.Plan(128);
        Assert.True(budget.TotalBytes > 3L << 30, $"{budget.TotalBytes}");
        var e = Assert.Throws<ArgumentException>(() => model.Validate(10, 128, 3L << 30));
        AssertOneLine(e.Message);
        Messages.Says(e.Message, "model 'big': needs about");
        Messages.Says(e.Message, "the largest layer, conv2d_1,");
        Messages.Says(e.Message, "but the device has 3.0 GiB");
        Messages.Says(Assert.Throws<ArgumentException>(() => model.Validate(7, 128, long.MaxValue)).Message,
            "its last layer, dense, gives (10) outputs per image but the data has 7 classes; end with Dense(7).");
    }

    /// <summary>Flatten and Dense(10) over 28×28×1, batches of 4, the CPU plan (no split reductions), counted by hand.</summary>
    [Fact]
    public void TheEstimateCountsParametersStateActivationsAndTheLoss()
    {
        var model = new Sequential("tiny", [28, 28, 1], [new Flatten(), new Dense(10)]);
        var budget = model.Validate(10, 4, long.MaxValue, LaunchPlan.ForCpu(2));
        Assert.Equal(7850, budget.TrainableParameters);
        // Kernel 7840 and bias 10 (a 16-float slot): value, gradient and Adam's two moments.
        Assert.Equal(4L * 4 * (7840 + 16), budget.ParameterBytes);
        // Input 4×784, output 4×10, Wᵀ 7840, input gradient 4×784, dlogits 4×10, row losses, predictions, labels.
        Assert.Equal(4L * (3136 + 40 + 7840 + 3136 + 40 + 12), budget.ActivationBytes);
        Assert.Equal(0, budget.WorkspaceBytes);
        Assert.Equal(budget.TotalBytes, model.EstimateBytes(4, LaunchPlan.ForCpu(2)));
        // The GPU plan splits reductions past 1,024 rows: at 2,048 images the weight gradient goes in two partial slabs
        // (784×10 each); the bias sum's two slabs reuse the same workspace.
        Assert.Equal(0, model.Plan(1024).WorkspaceBytes);
        Assert.Equal(4L * 2 * 784 * 10, model.Plan(2048).WorkspaceBytes);
    }

    [Fact]
    public void ZooModelsValidateAndTheCpuBoundIsTheHostsAvailableMemory()
    {
        var cpu = devices.Cpu;
        Assert.InRange(cpu.AvailableMemoryBytes, 1, cpu.Info.MemoryBytes);
        foreach (string name in ModelZoo.Names)
        {
            var model = ModelZoo.Create(name);
            var budget = model.Validate(10, 128, cpu.AvailableMemoryBytes, cpu.Plan);
            Assert.InRange(budget.TotalBytes, 1L << 20, 2L << 30);
            Assert.Equal([10], budget.OutputShape);
            // Validation names the layers as Build does, and the JSON round trip keeps them.
            Assert.Equal(model.Architecture().ToJsonString(), Sequential.FromArchitecture(model.Architecture().ToJsonString()).Architecture().ToJsonString());
        }
        Assert.Equal(225034, ModelZoo.Seed().Plan(1).TrainableParameters);
    }
}
