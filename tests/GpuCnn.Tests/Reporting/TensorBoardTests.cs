using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using GpuCnn.Data;
using GpuCnn.Devices;
using GpuCnn.Persistence;
using GpuCnn.Reporting.TensorBoard;
using GpuCnn.Tests.Cli;
using GpuCnn.Training;

namespace GpuCnn.Tests.Reporting;

/// <summary>
/// TensorBoard's events files, read back by a reader of the format written here from its
/// description alone (TFRecord framing with masked CRC-32C, protobuf wire format, PNG chunks):
/// its own bitwise CRCs and its own protobuf decoding, none of the writer's code or generated
/// classes. TensorBoard itself is not installed here; this reader is the check.
/// </summary>
public sealed class TensorBoardTests
{
    [Fact]
    public void MaskedCrc32CMatchesKnownVectors()
    {
        // RFC 3720 (iSCSI) B.4 and the usual check value.
        Assert.Equal(0xE3069283u, Crc32C("123456789"u8));
        Assert.Equal(0x8A9136AAu, Crc32C(new byte[32]));
        Assert.Equal(0x62A8AB43u, Crc32C(Enumerable.Repeat((byte)0xFF, 32).ToArray()));
        Assert.Equal(0x46DD794Eu, Crc32C(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()));
        Assert.Equal(0xE3069283u, MaskedCrc32C.Crc("123456789"u8));
        Assert.Equal(Mask(0xE3069283u), MaskedCrc32C.Of("123456789"u8));
        Assert.Equal(0u, MaskedCrc32C.Crc([]));
        // Every length around the writer's 8-byte steps.
        var random = new Random(3);
        for (int length = 0; length < 70; length++)
        {
            var data = new byte[length];
            random.NextBytes(data);
            Assert.Equal(Mask(Crc32C(data)), MaskedCrc32C.Of(data));
        }
    }

    [Fact]
    public void ARunsEventsFileHoldsItsMetricsCurvesConfusionMatrixAndSettings()
    {
        string data = SyntheticData.WriteFolder(480, 64);
        string run = Path.Combine(SyntheticData.TempFolder(), "run");
        // 432 training images in batches of 16: 27 batches an epoch, logged at batches 20 and 27.
        var options = new Hyperparameters { Epochs = 2, BatchSize = 16, Seed = 3 };
        new TrainingSession(TextWriter.Null).Start(new RunSpec { Device = DeviceKind.Cpu, Folder = run }, options, new DataSpec { DataDir = data });

        string file = Assert.Single(Directory.GetFiles(run, "*tfevents*"));
        var name = Regex.Match(Path.GetFileName(file), @"^events\.out\.tfevents\.(\d+)\.(.+)$");
        Assert.True(name.Success, file);
        Assert.Equal(Environment.MachineName, name.Groups[2].Value);
        Assert.InRange(long.Parse(name.Groups[1].Value), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 600, DateTimeOffset.UtcNow.ToUnixTimeSeconds());

        var events = ReadEvents(file);
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        Assert.True(events.All(e => e.WallTime > 1.6e9), "every event has a wall time");

        var history = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, RunFiles.MetricsJson))).RootElement.EnumerateArray().ToList();
        Assert.Equal(2, history.Count);
        foreach (var epoch in history)
        {
            int step = epoch.GetProperty("Epoch").GetInt32();
            foreach (var (tag, key) in new[] { ("loss", "Loss"), ("accuracy", "Accuracy"), ("val_loss", "ValLoss"), ("val_accuracy", "ValAccuracy"),
                         ("learning_rate", "LearningRate"), ("images_per_second", "ImagesPerSecond") })
                Assert.Equal((float)epoch.GetProperty(key).GetDouble(), Assert.Single(Scalars(events, "epoch/" + tag), s => s.Step == step).Value);
        }
        Assert.Equal([20L, 27, 47, 54], Scalars(events, "batch/loss").Select(s => s.Step));
        Assert.Equal([20L, 27, 47, 54], Scalars(events, "batch/accuracy").Select(s => s.Step));
        // At an epoch's last batch the running mean is the epoch's.
        Assert.Equal(Scalars(events, "epoch/loss").Select(s => s.Value), Scalars(events, "batch/loss").Where(s => s.Step % 27 == 0).Select(s => s.Value));

        var test = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, RunFiles.TestResults))).RootElement;
        Assert.Equal((float)test.GetProperty("test_accuracy").GetDouble(), Assert.Single(Scalars(events, "test/accuracy"), s => s.Step == 2).Value);

        var curves = Values(events, "training_metrics").ToList();
        Assert.Equal([1L, 2], curves.Select(v => v.Step));
        var confusion = Assert.Single(Values(events, "confusion_matrix"));
        Assert.Equal(2, confusion.Step);
        foreach (var (_, value) in curves.Append(confusion))
        {
            var image = Fields(value.Get(4)!);
            var (width, height) = CheckPng(image.Get(4)!);
            Assert.Equal((ulong)height, image.Varint(1));
            Assert.Equal((ulong)width, image.Varint(2));
            Assert.Contains(image.Varint(3) ?? 0, new ulong[] { 3, 4 }); // RGB or RGBA
        }
        Assert.Equal(File.ReadAllBytes(Path.Combine(run, RunFiles.TrainingPlot)), Fields(curves[^1].Value.Get(4)!).Get(4));
        Assert.Equal(File.ReadAllBytes(Path.Combine(run, RunFiles.ConfusionPlot)), Fields(confusion.Value.Get(4)!).Get(4));

        var (textStep, text) = Assert.Single(Values(events, "settings"));
        Assert.Equal(0, textStep);
        Assert.Equal("text", Encoding.UTF8.GetString(Fields(Fields(text.Get(9)!).Get(1)!).Get(1)!));
        var tensor = Fields(text.Get(8)!);
        Assert.Equal(7UL, tensor.Varint(1)); // DT_STRING
        Messages.Says(Encoding.UTF8.GetString(tensor.Get(8)!), File.ReadAllText(Path.Combine(run, RunFiles.Settings)).TrimEnd());
    }

    [Fact]
    public void TensorBoardOptionPutsTheEventsElsewhereAndAResumeAddsAFile()
    {
        string data = SyntheticData.WriteFolder(160, 32);
        string run = Path.Combine(SyntheticData.TempFolder(), "run"), logs = Path.Combine(SyntheticData.TempFolder(), "logs");
        string[] common = ["--data-dir", data, "--batch-size", "32", "--device", "cpu", "--tensorboard", logs];
        var first = CliRunner.Run(["train", "--run-dir", run, "--epochs", "1", .. common]);
        Assert.True(first.ExitCode == 0, first.Error);
        var resumed = CliRunner.Run(["train", "--resume", run, "--epochs", "2", .. common]);
        Assert.True(resumed.ExitCode == 0, resumed.Error);

        Assert.Empty(Directory.GetFiles(run, "*tfevents*"));
        var files = Directory.GetFiles(logs, "events.out.tfevents.*").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(2, files.Count);
        var steps = files.Select(f => Scalars(ReadEvents(f), "epoch/loss").Select(s => s.Step).ToList()).ToList();
        Assert.Equal([1L], steps[0]);
        Assert.Equal([2L], steps[1]);
    }

    // ---- The reader: TFRecord framing, protobuf wire format, PNG chunks. ----

    internal sealed record RawEvent(double WallTime, long Step, string? FileVersion, byte[]? Summary);

    /// <summary>Every record of an events file, each checksum checked; the file must end with a whole record.</summary>
    internal static List<RawEvent> ReadEvents(string file)
    {
        byte[] bytes = File.ReadAllBytes(file);
        var events = new List<RawEvent>();
        int at = 0;
        while (at < bytes.Length)
        {
            Assert.True(at + 12 <= bytes.Length, $"a truncated record header at {at}");
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at));
            Assert.Equal(Mask(Crc32C(bytes.AsSpan(at, 8))), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 8)));
            Assert.True((ulong)(bytes.Length - at - 16) >= length, $"a truncated record at {at}");
            var data = bytes.AsSpan(at + 12, (int)length);
            Assert.Equal(Mask(Crc32C(data)), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 12 + (int)length)));
            var fields = Fields(data.ToArray());
            events.Add(new RawEvent(
                fields.Get(1) is { } wall ? BinaryPrimitives.ReadDoubleLittleEndian(wall) : 0,
                (long)(fields.Varint(2) ?? 0),
                fields.Get(3) is { } version ? Encoding.UTF8.GetString(version) : null,
                fields.Get(5)));
            at += 16 + (int)length;
        }
        return events;
    }

    /// <summary>The summary values under <paramref name="tag"/>, with their events' steps.</summary>
    static IEnumerable<(long Step, Message Value)> Values(List<RawEvent> events, string tag) =>
        from e in events
        where e.Summary is not null
        from value in Fields(e.Summary!).All.Where(f => f.Number == 1).Select(f => Fields(f.Bytes!))
        where Encoding.UTF8.GetString(value.Get(1)!) == tag
        select (e.Step, value);

    static List<(long Step, float Value)> Scalars(List<RawEvent> events, string tag) =>
        Values(events, tag).Select(v => (v.Step, BinaryPrimitives.ReadSingleLittleEndian(v.Value.Get(2)!))).ToList();

    /// <summary>One protobuf field: a varint's value, or the bytes of a fixed-size or length-delimited one.</summary>
    sealed record Field(int Number, ulong Varint, byte[]? Bytes);

    /// <summary>A decoded message; a field given more than once reads as its last occurrence, as protobuf has it.</summary>
    sealed class Message(List<Field> fields)
    {
        public IEnumerable<Field> All => fields;
        public byte[]? Get(int number) => fields.LastOrDefault(f => f.Number == number)?.Bytes;
        public ulong? Varint(int number) => fields.LastOrDefault(f => f.Number == number && f.Bytes is null)?.Varint;
    }

    static Message Fields(byte[] message)
    {
        var fields = new List<Field>();
        int at = 0;
        ulong ReadVarint()
        {
            ulong value = 0;
            for (int shift = 0; ; shift += 7)
            {
                byte b = message[at++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return value;
            }
        }
        byte[] Take(int count)
        {
            var taken = message.AsSpan(at, count).ToArray();
            at += count;
            return taken;
        }
        while (at < message.Length)
        {
            ulong key = ReadVarint();
            int number = (int)(key >> 3);
            fields.Add((key & 7) switch
            {
                0 => new Field(number, ReadVarint(), null),
                1 => new Field(number, 0, Take(8)),
                2 => new Field(number, 0, Take((int)ReadVarint())),
                5 => new Field(number, 0, Take(4)),
                var wire => throw new InvalidDataException($"wire type {wire}"),
            });
        }
        return new Message(fields);
    }

    /// <summary>Checks a PNG's signature, chunk CRCs (CRC-32), IHDR first and IEND last; returns its size.</summary>
    static (int Width, int Height) CheckPng(byte[] png)
    {
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        var chunks = new List<string>();
        int at = 8, width = 0, height = 0;
        while (at < png.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            string type = Encoding.ASCII.GetString(png, at + 4, 4);
            Assert.Equal(Crc(0xEDB88320u, png.AsSpan(at + 4, 4 + length)), BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at + 8 + length)));
            if (type == "IHDR") (width, height) = (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at + 8)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at + 12)));
            chunks.Add(type);
            at += 12 + length;
        }
        Assert.Equal("IHDR", chunks[0]);
        Assert.Equal("IEND", chunks[^1]);
        Assert.Contains("IDAT", chunks);
        Assert.True(width > 0 && height > 0);
        return (width, height);
    }

    static uint Crc32C(ReadOnlySpan<byte> data) => Crc(0x82F63B78u, data);

    /// <summary>A reflected CRC-32, bit by bit: 0x82F63B78 is Castagnoli's polynomial, 0xEDB88320 PNG's (and zip's).</summary>
    static uint Crc(uint polynomial, ReadOnlySpan<byte> data)
    {
        uint crc = ~0u;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int bit = 0; bit < 8; bit++) crc = (crc & 1) != 0 ? (crc >> 1) ^ polynomial : crc >> 1;
        }
        return ~crc;
    }

    static uint Mask(uint crc) => ((crc >> 15) | (crc << 17)) + 0xA282EAD8u;
}
