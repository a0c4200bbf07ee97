using System.Diagnostics;
using System.IO.Compression;
using TorchSharp;
using static TorchSharp.torch;

// GpuCnn's seed and resnet20 models in TorchSharp (Models.cs), trained as GpuCnn trains them
// (Adam 1e-3 with Keras's ε, batch 128, shuffled Fashion-MNIST training images), to time the
// training step on this CPU in NCHW or channels-last memory.
// Usage: TorchSharpPeer DATA_DIR [--model seed|resnet20] [--layout nchw|channels_last] [--batches N] [--warmup W] [--threads T]
if (args.Length == 0 || args[0].StartsWith("--", StringComparison.Ordinal))
    return Fail("usage: TorchSharpPeer DATA_DIR [--model seed|resnet20] [--layout nchw|channels_last] [--batches N] [--warmup W] [--threads T]");
string dataDir = args[0];
string modelName = Option("--model", "seed"), layout = Option("--layout", "nchw");
if (!Models.Names.Contains(modelName)) return Fail($"error: --model {modelName}: not a model ({string.Join(", ", Models.Names)})");
if (layout is not ("nchw" or "channels_last")) return Fail($"error: --layout {layout}: not nchw or channels_last");
bool channelsLast = layout == "channels_last";
if (Count("--batches", 60) is not { } batches || Count("--warmup", 5) is not { } warmup || Count("--threads", Environment.ProcessorCount) is not { } threads)
    return 2;
const int Batch = 128;

string Option(string name, string fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

int? Count(string name, int fallback)
{
    string text = Option(name, fallback.ToString());
    if (int.TryParse(text, out int value) && value >= 1) return value;
    Fail($"error: {name} {text}: not a whole number of at least 1");
    return null;
}

static int Fail(string message)
{
    Console.Error.WriteLine(message);
    return 2;
}

static byte[] ReadIdx(string path, int headerBytes)
{
    using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
    using var memory = new MemoryStream();
    gzip.CopyTo(memory);
    return memory.ToArray()[headerBytes..];
}

string imagesFile = Path.Combine(dataDir, "train-images-idx3-ubyte.gz"), labelsFile = Path.Combine(dataDir, "train-labels-idx1-ubyte.gz");
if (!File.Exists(imagesFile) || !File.Exists(labelsFile)) return Fail($"error: {dataDir}: no Fashion-MNIST training files (train-*-idx*-ubyte.gz)");
torch.set_num_threads(threads);
torch.manual_seed(42);
var pixels = ReadIdx(imagesFile, 16);
var labelBytes = ReadIdx(labelsFile, 8);
int count = labelBytes.Length;
var images = torch.tensor(pixels, ScalarType.Byte).reshape(count, 1, 28, 28).to_type(ScalarType.Float32).div_(255f);
var labels = torch.tensor(labelBytes.Select(b => (long)b).ToArray());

var model = Models.Create(modelName);
if (channelsLast) Models.ToChannelsLast(model);
model.train();
var (trainable, moving) = Models.ParameterCounts(model);
string version = $"TorchSharp {typeof(torch).Assembly.GetName().Version} (libtorch CPU, {torch.get_num_threads()} threads by torch.set_num_threads)";
Console.WriteLine($"{version}: {modelName}, {trainable:N0} trainable parameters, {moving:N0} non-trainable (moving statistics)");
var optimizer = torch.optim.Adam(model.parameters(), 1e-3, 0.9, 0.999, 1e-7);
var criterion = nn.CrossEntropyLoss();
var order = torch.randperm(count);

Tensor Images(int b, out Tensor index)
{
    index = order.narrow(0, (long)b * Batch % (count - Batch), Batch);
    var x = images.index_select(0, index);
    return channelsLast ? Models.ChannelsLast(x) : x;
}

void Step(int b)
{
    using var scope = torch.NewDisposeScope();
    var x = Images(b, out var index);
    var loss = criterion.forward(model.forward(x), labels.index_select(0, index));
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
}

for (int b = 0; b < warmup; b++) Step(b); // allocations and oneDNN's kernel choice
// The layout really reaches the convolutions: the first one's output keeps it.
using (torch.no_grad())
using (var scope = torch.NewDisposeScope())
{
    var first = model.modules().OfType<TorchSharp.Modules.Conv2d>().First();
    if (Models.IsChannelsLast(first.forward(Images(0, out _))) != channelsLast)
        return Fail($"error: the first convolution's output is not in the {(channelsLast ? "channels_last" : "NCHW")} layout");
}
var clock = Stopwatch.StartNew();
for (int b = 0; b < batches; b++) Step(b);
double seconds = clock.Elapsed.TotalSeconds;
Console.WriteLine($"{version} {(channelsLast ? "channels_last" : "NCHW")}: {modelName} training step {seconds * 1e3 / batches:F2} ms, " +
                  $"{batches * Batch / seconds:F1} images/s over {batches} batches of {Batch}");
return 0;
