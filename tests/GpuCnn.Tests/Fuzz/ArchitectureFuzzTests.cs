using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using GpuCnn.Layers;
using GpuCnn.Models;
using GpuCnn.Training;

namespace GpuCnn.Tests.Fuzz;

/// <summary>
/// 500 mutations of a small CNN's architecture (sizes zero, negative or huge, values of the wrong
/// JSON type, unknown kinds, repeated names, layers removed, fields removed, text that is not
/// JSON). Each is either refused with one line (an ArgumentException naming a layer or what is
/// wrong, no stack trace) or trains an epoch on the CPU, saves, loads and gives the same logits;
/// each within 60 s and the process under 3 GiB. A failure names its case, which the seed replays.
/// </summary>
[Collection("devices")]
public sealed partial class ArchitectureFuzzTests(TestDevices devices)
{
    const int Cases = 500, Seed = 20240611, Classes = 10, Batch = 32;
    const long ProcessLimit = 3L << 30;
    /// <summary>What an accepted model may plan to use: well inside the process limit.</summary>
    const long ModelMemory = 1L << 30;

    /// <summary>A small CNN on 28×28×1 with every kind the fuzz should reach: conv, batch norm, max pool, residual block, dropout, dense.</summary>
    static JsonObject BaseArchitecture()
    {
        var model = new Sequential("fuzz-base", [28, 28, 1],
        [
            new Conv2D(8, 3, Activation.Relu, Padding.Same, stride: 2),
            new BatchNormalization(),
            new MaxPool2D(2),
            new ResidualBlock(8),
            new Dropout(0.25f),
            new Flatten(),
            new Dense(Classes),
        ]);
        model.Plan(1); // names the layers as Build would, so mutations can repeat them
        return model.Architecture();
    }

    [Fact]
    public void MutatedArchitecturesAreRefusedInOneLineOrTrainSaveAndLoad()
    {
        var device = devices.Cpu;
        var images = SyntheticData.Images(64, 5);
        // Other tests share this process and its memory: the cases may add at most ProcessLimit to what it held before them.
        long before = Process.GetCurrentProcess().WorkingSet64;
        string folder = SyntheticData.TempFolder();
        var inputs = images.Pixels.Take(4 * 784).Select(p => p / 255f).ToArray();
        var mutator = new ArchitectureMutator(BaseArchitecture(), Seed);
        int accepted = 0, refused = 0;
        for (int i = 0; i < Cases; i++)
        {
            var mutation = mutator.Next();
            var clock = Stopwatch.StartNew();
            try
            {
                Sequential model;
                try
                {
                    model = Sequential.FromArchitecture(mutation.Text);
                    model.Validate(Classes, Batch, Math.Min(device.AvailableMemoryBytes, ModelMemory), device.Plan);
                }
                catch (ArgumentException e)
                {
                    AssertWellFormedRefusal(e);
                    refused++;
                    continue;
                }
                Assert.False(mutation.MustRefuse, "accepted a mutation that must be refused");
                accepted++;
                string path = Path.Combine(folder, $"case-{i}.gpucnn");
                using (var trained = Model.Compile(model, device, new Hyperparameters { BatchSize = Batch, Seed = i }))
                {
                    trained.Fit(images, 1);
                    trained.Save(path);
                    var logits = trained.PredictLogits(inputs);
                    using var loaded = Model.Load(path, device);
                    Assert.Equal(logits, loaded.PredictLogits(inputs));
                }
                File.Delete(path);
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException || !e.Message.StartsWith("case "))
            {
                throw new Xunit.Sdk.XunitException($"case {i} ({mutation.Description}): {e.GetType().Name}: {e.Message}\n{mutation.Text}");
            }
            finally
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"case {i} ({mutation.Description}) took {clock.Elapsed}");
                // The working set now, not the peak: other test classes may share the process.
                long workingSet = Process.GetCurrentProcess().WorkingSet64;
                Assert.True(workingSet - before < ProcessLimit,
                    $"case {i} ({mutation.Description}): the process holds {workingSet >> 20} MiB, {(workingSet - before) >> 20} MiB more than before the cases");
            }
        }
        // Both paths ran: most mutations are refused, and enough are accepted to train.
        Assert.InRange(accepted, 10, Cases / 4);
        Assert.Equal(Cases, accepted + refused);
    }

    /// <summary>
    /// A few refused mutations through the real program: `train --architecture FILE` ends with
    /// exit code 2 and one line on stderr, no stack trace.
    /// </summary>
    [Fact]
    public void RefusedArchitecturesEndTheTrainCommandWithOneLine()
    {
        string data = SyntheticData.WriteFolder(64, 32);
        var mutator = new ArchitectureMutator(BaseArchitecture(), Seed + 1);
        var chosen = new List<ArchitectureMutator.Mutation>();
        var categories = new HashSet<string>();
        // Eight must-refuse mutations, each of another category.
        while (chosen.Count < 8)
        {
            var mutation = mutator.Next();
            if (mutation.MustRefuse && categories.Add(mutation.Category)) chosen.Add(mutation);
        }
        foreach (var mutation in chosen)
        {
            string file = Path.Combine(SyntheticData.TempFolder(), "architecture.json");
            File.WriteAllText(file, mutation.Text);
            var result = Cli.CliRunner.Run("train", "--architecture", file, "--device", "cpu", "--data-dir", data, "--epochs", "1",
                "--train-limit", "64", "--batch-size", "32", "--run-dir", Path.Combine(SyntheticData.TempFolder(), "run"));
            string context = $"{mutation.Description}: exit {result.ExitCode}, stderr: {result.Error}";
            Assert.True(result.ExitCode == 2, context);
            string error = result.Error.TrimEnd();
            Assert.True(error.Length > 0 && !error.Contains('\n'), context);
            Assert.DoesNotMatch(StackFrame(), error);
        }
    }

    static void AssertWellFormedRefusal(ArgumentException e)
    {
        // Exactly ArgumentException: its subclasses append "(Parameter 'x')" and come from checks a user should not reach.
        Assert.Equal(typeof(ArgumentException), e.GetType());
        string message = e.Message;
        Assert.False(string.IsNullOrWhiteSpace(message));
        Assert.DoesNotContain('\n', message);
        Assert.DoesNotContain('\r', message);
        Assert.DoesNotContain("--", message);
        Assert.DoesNotMatch(StackFrame(), message);
        Assert.Matches(@"^(layer \S+: |model '[^']*': |the architecture|the model's architecture)", message);
    }

    [GeneratedRegex(@"\bat [\w.`<>]+\(")]
    private static partial Regex StackFrame();
}

/// <summary>
/// Mutations of one architecture's JSON, drawn from a seeded generator: one change each, with a
/// description to replay it by, and whether it must be refused (sizes out of range, wrong types,
/// unknown kinds, repeated names, nothing to read) or may be either (a layer removed, a rate of 0).
/// </summary>
public sealed class ArchitectureMutator(JsonObject architecture, int seed)
{
    public sealed record Mutation(string Category, string Description, string Text, bool MustRefuse);

    readonly Random random = new(seed);

    static readonly long[] BadSizes = [0, -1, -5, 100000000, int.MaxValue];
    static readonly string[] WholeOptions = ["filters", "units", "kernel_size", "stride", "size"];
    static readonly Func<JsonNode?>[] WrongTypes =
        [() => "abc", () => "3", () => true, () => false, () => new JsonArray(), () => new JsonArray(3), () => new JsonObject(), () => null, () => 2.5];
    static readonly string[] NotJson = ["", "   ", "{", "{\"name\": \"x\", \"layers\": [", "null", "[]", "42", "\"text\"", "{\"name\": }", "\u0000\u0001garbage", "{'name': 'single quotes'}"];

    public Mutation Next()
    {
        var json = architecture.DeepClone().AsObject();
        var layers = json["layers"]!.AsArray();
        int index = random.Next(layers.Count);
        var layer = layers[index]!.AsObject();
        string where = $"layer {index} ({layer["kind"]})";
        switch (random.Next(10))
        {
            case 0:
            case 1:
            {
                // A size or rate set to zero, negative or huge; whole-number options must refuse every one.
                var numeric = layer.Where(p => p.Value?.GetValueKind() == System.Text.Json.JsonValueKind.Number).Select(p => p.Key).ToList();
                if (numeric.Count == 0 || random.Next(6) == 0)
                {
                    int d = random.Next(3);
                    long bad = Pick(BadSizes);
                    json["input_shape"]![d] = bad;
                    return Done("bad size", $"input_shape[{d}] = {bad}", json, true);
                }
                string option = Pick(numeric);
                long value = Pick(BadSizes);
                layer[option] = value;
                // A rate or momentum of 0 is allowed; every other value here is outside its range.
                bool mustRefuse = WholeOptions.Contains(option) || value != 0 || option == "epsilon";
                return Done("bad size", $"{where}.{option} = {value}", json, mustRefuse);
            }
            case 2:
            {
                var options = layer.Select(p => p.Key).ToList();
                string option = Pick(options);
                var value = Pick(WrongTypes)();
                string shown = value?.ToJsonString() ?? "null";
                layer[option] = value;
                // Some draws are of the right type after all: any text (or null: none) is a name, true and false are use_bias's values.
                var kind = value?.GetValueKind();
                bool rightType = option == "name" && (value is null || kind == System.Text.Json.JsonValueKind.String)
                                 || option == "use_bias" && kind is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False;
                return Done("wrong type", $"{where}.{option} = {shown}", json, !rightType);
            }
            case 3:
            {
                string kind = Pick(["Attention", "", "conv2d", "Conv2d", "Lambda"]);
                layer["kind"] = random.Next(4) == 0 ? 7 : kind;
                return Done("unknown kind", $"{where}.kind = {layer["kind"]!.ToJsonString()}", json, true);
            }
            case 4:
            {
                int other = (index + 1 + random.Next(layers.Count - 1)) % layers.Count;
                string name = layers[other]!["name"]!.GetValue<string>();
                layer["name"] = name;
                return Done("repeated name", $"{where}.name = {name}", json, true);
            }
            case 5:
            {
                if (random.Next(3) == 0)
                {
                    json["layers"] = new JsonArray();
                    return Done("no layers", "layers = []", json, true);
                }
                layers.RemoveAt(index);
                return Done("layer removed", $"{where} removed", json, false);
            }
            case 6:
            {
                if (random.Next(4) == 0)
                {
                    string field = Pick(["name", "input_shape", "layers"]);
                    json.Remove(field);
                    return Done("field removed", $"{field} removed", json, true);
                }
                string option = Pick(layer.Select(p => p.Key).ToList());
                layer.Remove(option);
                return Done("field removed", $"{where}.{option} removed", json, option != "name");
            }
            case 7:
            {
                layers[index] = Pick(WrongTypes)();
                return Done("layer not an object", $"{where} = {layers[index]?.ToJsonString() ?? "null"}", json, true);
            }
            case 8:
            {
                string text = Pick(NotJson);
                if (random.Next(2) == 0)
                {
                    string whole = json.ToJsonString();
                    text = whole[..random.Next(whole.Length)];
                }
                return new Mutation("not json", $"text of {text.Length} characters", text, true);
            }
            default:
            {
                // Small sizes that may fit (a kernel of 2, a stride of 3, 16 filters): these mostly train.
                var numeric = layer.Where(p => p.Value?.GetValueKind() == System.Text.Json.JsonValueKind.Number).Select(p => p.Key).ToList();
                if (numeric.Count == 0) return Done("unchanged", $"{where} unchanged", json, false);
                string option = Pick(numeric);
                JsonNode value = option is "rate" or "momentum" ? random.Next(10) / 10.0 : Pick([1, 2, 3, 16]);
                layer[option] = value;
                return Done("small change", $"{where}.{option} = {value.ToJsonString()}", json, false);
            }
        }
    }

    T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];

    static Mutation Done(string category, string description, JsonObject json, bool mustRefuse) =>
        new(category, description, json.ToJsonString(), mustRefuse);
}
