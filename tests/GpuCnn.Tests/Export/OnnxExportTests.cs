using GpuCnn.Data;
using GpuCnn.Export;
using GpuCnn.Layers;
using GpuCnn.Models;
using GpuCnn.Tensors;
using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;

namespace GpuCnn.Tests.Export;

/// <summary>
/// The exported ONNX file, run by ONNX Runtime, gives GpuCnn's own logits on 512 test images
/// (Fashion-MNIST's, where the data cache holds them, as in CI; else synthetic images) within
/// 1e-4, and the same predicted class for every image.
/// </summary>
[Collection("devices")]
public sealed class OnnxExportTests(TestDevices devices)
{
    const int Images = 512, Batch = 128;

    [Theory]
    [InlineData("seed")]
    [InlineData("seed-bn")]
    [InlineData("resnet")]
    [InlineData("sample-net")]
    public void OnnxRuntimeGivesGpuCnnsLogits(string name)
    {
        var device = devices.Cpu;
        using var model = (name == "sample-net" ? SampleNet() : ModelZoo.Create(name)).Build(device, Batch, 42);
        Perturb(model);
        var pixels = TestImages();
        string file = Path.Combine(SyntheticData.TempFolder(), name + ".onnx");
        OnnxExport.Save(model, file);

        var expected = new float[Images * ModelZoo.Classes];
        using var input = Tensor.Zeros(device, Batch, 28, 28, 1);
        for (int b = 0; b < Images / Batch; b++)
        {
            input.CopyFrom(pixels.AsSpan(b * Batch * 784, Batch * 784).ToArray());
            model.Forward(input, PassContext.Inference).ToArray().CopyTo(expected, b * Batch * ModelZoo.Classes);
        }

        using var session = new InferenceSession(file);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor(pixels, [Images, 28, 28, 1]))]);
        var actual = results.Single(r => r.Name == "logits").AsEnumerable<float>().ToArray();

        Assert.Equal(expected.Length, actual.Length);
        double worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst <= 1e-4, $"{name}: ONNX Runtime's logits differ from GpuCnn's by up to {worst:E2}");
        for (int i = 0; i < Images; i++)
            Assert.Equal(ArgMax(expected, i), ArgMax(actual, i));
    }

    /// <summary>
    /// A runtime that is not .NET reads the file with no extra step and agrees: ONNX Runtime Web
    /// (WebAssembly) under Node, from tests/onnx-node (`npm ci` there). Without node or that
    /// package the test says it skipped; CI installs both and sets GPUCNN_REQUIRE_NODE_ONNX=1.
    /// </summary>
    [Theory]
    [InlineData("seed")]
    [InlineData("seed-bn")]
    [InlineData("resnet")]
    public void OnnxRuntimeWebUnderNodeAgrees(string name)
    {
        string folder = Path.Combine(OptionalRuntime.RepositoryRoot(), "tests", "onnx-node");
        OptionalRuntime.Require("NODE_ONNX", !Directory.Exists(Path.Combine(folder, "node_modules", "onnxruntime-web"))
            ? "tests/onnx-node has no node_modules (run npm ci there)"
            : OptionalRuntime.OnPath("node") is null ? "node is not on PATH" : null);
        const int Count = 256;
        var device = devices.Cpu;
        using var model = ModelZoo.Create(name).Build(device, Batch, 42);
        Perturb(model);
        var pixels = TestImages()[..(Count * 784)];
        string file = Path.Combine(SyntheticData.TempFolder(), name + ".onnx"), input = Path.ChangeExtension(file, ".f32");
        OnnxExport.Save(model, file);
        var bytes = new byte[pixels.Length * 4];
        Buffer.BlockCopy(pixels, 0, bytes, 0, bytes.Length);
        File.WriteAllBytes(input, bytes);

        var start = new System.Diagnostics.ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = folder };
        foreach (var a in new[] { "run.mjs", file, input, $"{Count}", "28", "28", "1" }) start.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, error);
        using var json = System.Text.Json.JsonDocument.Parse(output.Result);
        var actual = json.RootElement.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();

        var expected = new float[Count * ModelZoo.Classes];
        using var x = Tensor.Zeros(device, Batch, 28, 28, 1);
        for (int b = 0; b < Count / Batch; b++)
        {
            x.CopyFrom(pixels.AsSpan(b * Batch * 784, Batch * 784).ToArray());
            model.Forward(x, PassContext.Inference).ToArray().CopyTo(expected, b * Batch * ModelZoo.Classes);
        }
        Assert.Equal("logits", json.RootElement.GetProperty("name").GetString());
        double worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst <= 1e-4, $"{name}: ONNX Runtime Web's logits differ from GpuCnn's by up to {worst:E2}");
        for (int i = 0; i < Count; i++) Assert.Equal(ArgMax(expected, i), ArgMax(actual, i));
    }

    /// <summary>`gpucnn export RUN --onnx FILE` on a trained run writes a file ONNX Runtime loads and runs; a bad path is one line.</summary>
    [Fact]
    public void TheExportCommandWritesAFileOnnxRuntimeRuns()
    {
        string data = SyntheticData.WriteFolder(96, 32);
        string run = Path.Combine(SyntheticData.TempFolder(), "run"), file = Path.Combine(SyntheticData.TempFolder(), "seed.onnx");
        Assert.Equal(0, Cli.CliRunner.Run("train", "--data-dir", data, "--epochs", "1", "--batch-size", "32", "--run-dir", run).ExitCode);
        var r = Cli.CliRunner.Run("export", run, "--onnx", file);
        Assert.True(r.ExitCode == 0, r.Error);
        Messages.Says(r.Output, "model 'seed', ONNX opset 17");
        using var session = new InferenceSession(file);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor(new float[3 * 784], [3, 28, 28, 1]))]);
        Assert.Equal(30, results.Single().AsEnumerable<float>().Count());
        var missing = Cli.CliRunner.Run("export", Path.Combine(run, "nothing.gpucnn"), "--onnx", file);
        Assert.Equal(2, missing.ExitCode);
        Messages.Says(missing.Error, "nothing.gpucnn: file not found");
    }

    /// <summary>The custom model of samples/GpuCnn.Sample (same layers, same options).</summary>
    static Sequential SampleNet() => new("sample-net", [28, 28, 1],
    [
        new Conv2D(24, 3, Activation.Relu, Padding.Same),
        new BatchNormalization(),
        new MaxPool2D(2),
        new ResidualBlock(48, stride: 2),
        new GlobalAvgPool2D(),
        new Dropout(0.2f),
        new Dense(10),
    ]);

    /// <summary>Batch norm's γ, β and moving statistics away from their initial 1, 0, 0 and 1, so the inference form is really checked.</summary>
    static void Perturb(Sequential model)
    {
        var random = new Random(3);
        float[] Values(int n, double low, double high) => [.. Enumerable.Range(0, n).Select(_ => (float)(low + random.NextDouble() * (high - low)))];
        foreach (var bn in Flatten(model.Layers).OfType<BatchNormalization>())
        {
            var p = bn.Parameters;
            int c = p[0].Length;
            p[0].Value.CopyFrom(Values(c, 0.5, 1.5));
            p[1].Value.CopyFrom(Values(c, -0.2, 0.2));
            p[2].Value.CopyFrom(Values(c, -0.3, 0.3));
            p[3].Value.CopyFrom(Values(c, 0.05, 0.5));
        }
    }

    static IEnumerable<Layer> Flatten(IEnumerable<Layer> layers) =>
        layers.SelectMany(l => l is ResidualBlock block ? Flatten(block.MainPath.Concat(block.Shortcut)) : [l]);

    static float[] TestImages()
    {
        var store = new FashionMnistStore(new DataOptions());
        var images = store.IsCached ? store.Load().Test.Take(Images) : SyntheticData.Images(Images, 5);
        return [.. images.Pixels.Take(Images * 784).Select(v => v / 255f)];
    }

    static int ArgMax(float[] logits, int row)
    {
        int best = 0;
        for (int j = 1; j < ModelZoo.Classes; j++)
            if (logits[row * ModelZoo.Classes + j] > logits[row * ModelZoo.Classes + best]) best = j;
        return best;
    }
}
