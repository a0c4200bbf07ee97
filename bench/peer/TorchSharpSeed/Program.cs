using System.Diagnostics;
using System.IO.Compression;
using TorchSharp;
using static TorchSharp.torch;

// The Keras seed model in TorchSharp, trained as GpuCnn trains it (Adam 1e-3 with Keras's ε,
// batch 128, shuffled Fashion-MNIST training images), to time its training step on this CPU.
// Usage: TorchSharpSeed DATA_DIR [--batches N] [--threads T]
string dataDir = args.Length > 0 ? args[0] : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "gpucnn", "fashion-mnist");
int batches = Option("--batches", 60), threads = Option("--threads", Environment.ProcessorCount);
const int Batch = 128;

int Option(string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : fallback;
}

static byte[] ReadIdx(string path, int headerBytes)
{
    using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
    using var memory = new MemoryStream();
    gzip.CopyTo(memory);
    return memory.ToArray()[headerBytes..];
}

torch.set_num_threads(threads);
torch.manual_seed(42);
var pixels = ReadIdx(Path.Combine(dataDir, "train-images-idx3-ubyte.gz"), 16);
var labelBytes = ReadIdx(Path.Combine(dataDir, "train-labels-idx1-ubyte.gz"), 8);
int count = labelBytes.Length;
var images = torch.tensor(pixels, ScalarType.Byte).reshape(count, 1, 28, 28).to_type(ScalarType.Float32).div_(255f);
var labels = torch.tensor(labelBytes.Select(b => (long)b).ToArray());

var model = nn.Sequential(
    ("conv2d", nn.Conv2d(1, 32, 3)), ("relu", nn.ReLU()), ("max_pooling2d", nn.MaxPool2d(2)),
    ("conv2d_1", nn.Conv2d(32, 64, 3)), ("relu_1", nn.ReLU()), ("max_pooling2d_1", nn.MaxPool2d(2)),
    ("dropout", nn.Dropout(0.25)), ("flatten", nn.Flatten()),
    ("dense", nn.Linear(1600, 128)), ("relu_2", nn.ReLU()), ("dropout_1", nn.Dropout(0.5)),
    ("dense_1", nn.Linear(128, 10)));
model.train();
var optimizer = torch.optim.Adam(model.parameters(), 1e-3, 0.9, 0.999, 1e-7);
var criterion = nn.CrossEntropyLoss();
var order = torch.randperm(count);

void Step(int b)
{
    using var scope = torch.NewDisposeScope();
    var index = order.narrow(0, (long)b * Batch % (count - Batch), Batch);
    var loss = criterion.forward(model.forward(images.index_select(0, index)), labels.index_select(0, index));
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
}

for (int b = 0; b < 5; b++) Step(b); // warm-up: allocations and oneDNN's kernel choice
var clock = Stopwatch.StartNew();
for (int b = 0; b < batches; b++) Step(b);
double seconds = clock.Elapsed.TotalSeconds;
Console.WriteLine($"TorchSharp {typeof(torch).Assembly.GetName().Version} (libtorch CPU, {threads} threads): seed training step {seconds * 1e3 / batches:F2} ms, {batches * Batch / seconds:F1} images/s over {batches} batches of {Batch}");
