using System.IO.Compression;
using System.Net;
using GpuCnn.Data;

namespace GpuCnn.Tests.Data;

/// <summary>Every malformed data file is refused with one clear message naming the file and the problem.</summary>
public sealed class DataFileTests
{
    static DataFileException Refused(string path) => Assert.Throws<DataFileException>(() => IdxFile.Read(path));

    static string Write(byte[] content, string name = "file.gz")
    {
        string path = Path.Combine(SyntheticData.TempFolder(), name);
        File.WriteAllBytes(path, content);
        return path;
    }

    static byte[] Gzip(byte[] raw)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(raw);
        return buffer.ToArray();
    }

    static byte[] Idx(uint magic, int[] dims, int values)
    {
        var bytes = new List<byte>(BitConverter.GetBytes(magic).Reverse());
        foreach (int d in dims) bytes.AddRange(BitConverter.GetBytes(d).Reverse());
        bytes.AddRange(new byte[values]);
        return bytes.ToArray();
    }

    [Fact]
    public void ReadsWhatItWrites()
    {
        string folder = SyntheticData.WriteFolder(30, 10);
        var data = FashionMnist.ReadFolder(folder, "test");
        Assert.Equal(30, data.Train.Count);
        Assert.Equal(10, data.Test.Count);
        Assert.Equal(SyntheticData.Images(30, 1).Pixels, data.Train.Pixels);
    }

    [Fact]
    public void MissingFile()
    {
        var e = Refused("/nonexistent/train-images-idx3-ubyte.gz");
        Messages.Says(e.Message, "train-images-idx3-ubyte.gz");
        Messages.Says(e.Message, "not found");
    }

    [Fact]
    public void EmptyFile() => Assert.Contains("empty", Refused(Write([])).Message);

    [Fact]
    public void TruncatedGzip()
    {
        var full = Gzip(Idx(0x803, [10, 28, 28], 7840));
        var e = Refused(Write(full[..(full.Length / 2)]));
        Messages.Says(e.Message, "corrupt or truncated gzip data");
    }

    [Fact]
    public void NotGzipAndNotIdx()
    {
        var e = Refused(Write("hello, this is text"u8.ToArray(), "notes.txt"));
        Messages.Says(e.Message, "notes.txt");
        Messages.Says(e.Message, "not an IDX file");
    }

    [Fact]
    public void WrongMagicNumber()
    {
        var e = Refused(Write(Gzip(Idx(0x0D03, [10, 28, 28], 7840))));
        Messages.Says(e.Message, "magic number 0x00000d03");
    }

    [Fact]
    public void TruncatedData()
    {
        var e = Refused(Write(Gzip(Idx(0x803, [10, 28, 28], 5000))));
        Messages.Says(e.Message, "declares 10x28x28 = 7840 values but the file holds 5000");
    }

    [Fact]
    public void CountsThatDisagree()
    {
        string folder = SyntheticData.WriteFolder(30, 10);
        IdxFile.WriteGzip(Path.Combine(folder, "train-labels-idx1-ubyte.gz"), [29], new byte[29]);
        var e = Assert.Throws<DataFileException>(() => FashionMnist.ReadFolder(folder, "test"));
        Messages.Says(e.Message, "train-labels-idx1-ubyte.gz");
        Messages.Says(e.Message, "holds 29 labels but train-images-idx3-ubyte.gz holds 30 images");
    }

    /// <summary>IDX data sets of another size (MNIST-format, such as 32×32 digits) read; train and test must agree.</summary>
    [Fact]
    public void ImagesOfAnotherSizeReadAndTrainAndTestMustAgree()
    {
        string folder = SyntheticData.WriteFolder(30, 10);
        IdxFile.WriteGzip(Path.Combine(folder, "train-images-idx3-ubyte.gz"), [30, 32, 32], new byte[30 * 32 * 32]);
        var e = Assert.Throws<DataFileException>(() => FashionMnist.ReadFolder(folder, "test"));
        Messages.Says(e.Message, "t10k-images-idx3-ubyte.gz: images are 28x28 but the training images are 32x32");
        IdxFile.WriteGzip(Path.Combine(folder, "t10k-images-idx3-ubyte.gz"), [10, 32, 32], new byte[10 * 32 * 32]);
        var data = FashionMnist.ReadFolder(folder, "test");
        Assert.Equal([32, 32, 1], data.Train.Shape);
    }

    [Fact]
    public void CacheFolderThatCannotBeWritten()
    {
        string file = Write([1, 2, 3], "a-file");
        var store = new FashionMnistStore(new DataOptions { CacheDir = Path.Combine(file, "cache") });
        var e = Assert.Throws<DataFileException>(store.Fetch);
        Messages.Says(e.Message, "cache folder cannot be written");
    }

    [Fact]
    public void DownloadWithAWrongChecksumIsDeletedNotCached()
    {
        using var listener = new HttpListener();
        int port = 0;
        for (int attempt = 0; attempt < 20; attempt++)
        {
            port = Random.Shared.Next(20000, 60000);
            listener.Prefixes.Clear();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
                break;
            }
            catch (HttpListenerException) { }
        }
        var serving = Task.Run(async () =>
        {
            var context = await listener.GetContextAsync();
            var body = "not the real file"u8.ToArray();
            context.Response.OutputStream.Write(body);
            context.Response.Close();
        });
        string cache = SyntheticData.TempFolder();
        var options = new DataOptions { CacheDir = cache, MirrorUrl = $"http://127.0.0.1:{port}/" };
        var e = Assert.Throws<DataFileException>(() => OfficialMirror.Download(options, cache, _ => { }));
        Messages.Says(e.Message, "checksum mismatch");
        Messages.Says(e.Message, "train-images-idx3-ubyte.gz");
        Assert.Empty(Directory.GetFiles(cache));
        serving.Wait(TimeSpan.FromSeconds(5));
    }
}
