using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using GpuCnn.Data;
using GpuCnn.Persistence;
using GpuCnn.Pictures;
using GpuCnn.Training;
using SkiaSharp;

namespace GpuCnn.Tests.Fuzz;

/// <summary>
/// Every reader of outside files takes 2,000 mutated inputs (flipped bits, truncation, inserted
/// and deleted bytes, length fields set to huge or negative values; checkpoints also with their
/// checksum recomputed, so the parser behind it is reached) and ends each in its documented
/// error naming the file, or in a result. Never another exception, an out-of-memory error or a
/// hang. Seeds are fixed: a failure names its case, which replays it.
/// </summary>
public sealed class ReaderFuzzTests
{
    const int Cases = 2000;

    [Fact]
    public void IdxFiles()
    {
        var images = Idx(0x00000803, [6, 28, 28]);
        var labels = Idx(0x00000801, [6]);
        Fuzz(1, [images, Gzip(images), labels, Gzip(labels)], lengthFields: [4, 8, 12, 16], path =>
        {
            try
            {
                var idx = IdxFile.Read(path);
                Assert.Equal(idx.Dimensions.Aggregate(1L, (a, d) => a * d), idx.Values.Length);
            }
            catch (DataFileException e)
            {
                Assert.Equal(path, e.Path);
            }
        });
    }

    [Fact]
    public void Checkpoints()
    {
        string valid = Path.Combine(SyntheticData.TempFolder(), "valid.gpucnn");
        var header = new CheckpointHeader("tiny", [4, 4, 1], 10, new Hyperparameters(), "adam", 12,
            [new EpochMetrics(1, 0.5, 0.8, 0.6, 0.7, 1.5, 100, 1e-3)], new RunRecord("gpucnn train"));
        Checkpoint.Save(valid, header, [new NamedArray("dense/kernel", [16, 10], new float[160]), new NamedArray("dense/bias", [10], new float[10])]);
        var content = File.ReadAllBytes(valid);
        int headerLength = BinaryPrimitives.ReadInt32LittleEndian(content.AsSpan(12));
        // Half the cases get a valid checksum after mutation, so the header and array parsing is exercised.
        Fuzz(2, [content], lengthFields: [12], path =>
        {
            try
            {
                var (loaded, arrays) = Checkpoint.Load(path);
                Assert.NotNull(loaded.Hyperparameters);
                Assert.All(arrays, a => Assert.Equal(a.Shape.Aggregate(1L, (x, d) => x * d), a.Values.Length));
            }
            catch (CheckpointException e)
            {
                Assert.StartsWith(path, e.Message);
            }
        }, fixUp: (bytes, random) =>
        {
            if (random.Next(2) == 0 || bytes.Length < 48) return bytes;
            SHA256.HashData(bytes.AsSpan(0, bytes.Length - 32), bytes.AsSpan(bytes.Length - 32));
            return bytes;
        }, focus: (16, 16 + headerLength));
    }

    [Fact]
    public void PicturesForPredict()
    {
        Fuzz(3, [Picture(SKEncodedImageFormat.Png), Picture(SKEncodedImageFormat.Jpeg)], lengthFields: [8, 16, 20], path =>
        {
            try
            {
                Assert.Equal(784, PictureConverter.Load(path).Length);
            }
            catch (DataFileException e)
            {
                Assert.Equal(path, e.Path);
            }
        });
    }

    /// <summary>Runs <see cref="Cases"/> mutations of the seeds through a reader, each case in a file of its own.</summary>
    static void Fuzz(int seed, byte[][] seeds, int[] lengthFields, Action<string> read,
        Func<byte[], Random, byte[]>? fixUp = null, (int Start, int End)? focus = null)
    {
        string folder = SyntheticData.TempFolder();
        var run = Task.Run(() =>
        {
            var random = new Random(seed);
            for (int i = 0; i < Cases; i++)
            {
                var bytes = Mutate(seeds[i % seeds.Length], random, lengthFields, focus);
                if (fixUp is not null) bytes = fixUp(bytes, random);
                string path = Path.Combine(folder, $"case-{i}");
                File.WriteAllBytes(path, bytes);
                try
                {
                    read(path);
                }
                catch (Exception e)
                {
                    throw new Xunit.Sdk.XunitException($"seed {seed}, case {i}: {e.GetType().Name}: {e.Message}");
                }
                File.Delete(path);
            }
        });
        Assert.True(run.Wait(TimeSpan.FromMinutes(3)), $"seed {seed}: the reader hung");
    }

    static byte[] Mutate(byte[] original, Random random, int[] lengthFields, (int Start, int End)? focus)
    {
        var bytes = (byte[])original.Clone();
        int Position() => focus is { } f && random.Next(2) == 0 ? random.Next(f.Start, f.End) : random.Next(bytes.Length);
        switch (random.Next(5))
        {
            case 0: // flipped bits
                for (int n = random.Next(1, 9); n > 0; n--) bytes[Position()] ^= (byte)(1 << random.Next(8));
                return bytes;
            case 1: // truncated
                return bytes[..random.Next(bytes.Length)];
            case 2: // a length field set to a huge, negative or zero value
                int at = lengthFields[random.Next(lengthFields.Length)];
                int value = new[] { int.MaxValue, int.MinValue, -1, 0, 1 << 30, random.Next() }[random.Next(6)];
                if (at + 4 <= bytes.Length)
                {
                    if (random.Next(2) == 0) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(at), value);
                    else BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at), value);
                }
                return bytes;
            case 3: // bytes inserted
                int insertAt = Position();
                var inserted = new byte[random.Next(1, 64)];
                random.NextBytes(inserted);
                return [.. bytes[..insertAt], .. inserted, .. bytes[insertAt..]];
            default: // bytes deleted, or digits changed where they describe sizes
                if (focus is not null && random.Next(2) == 0)
                {
                    for (int n = random.Next(1, 4); n > 0; n--)
                    {
                        int p = Position();
                        if (bytes[p] is >= (byte)'0' and <= (byte)'9') bytes[p] = (byte)"0123456789-"[random.Next(11)];
                    }
                    return bytes;
                }
                int from = Position(), count = Math.Min(random.Next(1, 64), bytes.Length - from);
                return [.. bytes[..from], .. bytes[(from + count)..]];
        }
    }

    static byte[] Idx(uint magic, int[] dims)
    {
        int values = dims.Aggregate(1, (a, d) => a * d);
        var bytes = new byte[4 + 4 * dims.Length + values];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, magic);
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        new Random(7).NextBytes(bytes.AsSpan(4 + 4 * dims.Length));
        return bytes;
    }

    static byte[] Gzip(byte[] raw)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(raw);
        return buffer.ToArray();
    }

    static byte[] Picture(SKEncodedImageFormat format)
    {
        using var bitmap = new SKBitmap(28, 28, SKColorType.Gray8, SKAlphaType.Opaque);
        var random = new Random(9);
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++) bitmap.SetPixel(x, y, new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)));
        using var image = SKImage.FromBitmap(bitmap);
        return image.Encode(format, 90).ToArray();
    }
}
