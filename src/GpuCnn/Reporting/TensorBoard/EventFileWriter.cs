using System.Buffers.Binary;
using System.Text;
using Google.Protobuf;
using GpuCnn.IO;
using GpuCnn.Reporting.TensorBoard.Proto;

namespace GpuCnn.Reporting.TensorBoard;

/// <summary>
/// A TensorBoard event file, events.out.tfevents.SECONDS.HOST, as TensorFlow's and PyTorch's
/// summary writers write it: TFRecord records (little-endian uint64 length, masked CRC-32C of the
/// length, the serialized Event, masked CRC-32C of it), the first one the file version. Each
/// record goes to the file in one unbuffered write, so a live TensorBoard sees it at once and a
/// killed process leaves only whole records. A new writer starts a new file; TensorBoard reads every events
/// file of a folder as one run.
/// </summary>
public sealed class EventFileWriter : IDisposable
{
    public const string FileVersion = "brain.Event:2";
    public const string FilePrefix = "events.out.tfevents.";

    readonly FileStream stream;

    public string Path { get; }

    public EventFileWriter(string directory)
    {
        string first = System.IO.Path.Combine(directory, $"{FilePrefix}{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.{Environment.MachineName}");
        try
        {
            Directory.CreateDirectory(directory);
            // A second writer within the same second (a quick resume) takes a suffix rather than append to the first's file.
            for (int n = 0; ; n++)
            {
                Path = n == 0 ? first : $"{first}.{n}";
                try
                {
                    // Unbuffered: each record is one write, and a failed one leaves nothing for Dispose to retry.
                    stream = new FileStream(Path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 0);
                    break;
                }
                catch (IOException) when (File.Exists(Path) && n < 100) { }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FileWriteException(first, e);
        }
        Write(new Event { FileVersion = FileVersion });
    }

    /// <summary>Scalars under their tags at <paramref name="step"/>, in one event; NaN values (no validation split) are left out.</summary>
    public void Scalars(long step, params (string Tag, double Value)[] values)
    {
        var summary = new Summary();
        foreach (var (tag, value) in values)
            if (!double.IsNaN(value)) summary.Value.Add(new Summary.Types.Value { Tag = tag, SimpleValue = (float)value });
        if (summary.Value.Count > 0) Write(step, summary);
    }

    /// <summary>A PNG under <paramref name="tag"/> (TensorBoard's Images tab); its size and colour type are read from its header.</summary>
    public void Png(string tag, ReadOnlySpan<byte> png, long step)
    {
        // The signature (8 bytes), then IHDR: length, type, width, height (big-endian), bit depth, colour type.
        ReadOnlySpan<byte> signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
        if (png.Length < 26 || !png[..8].SequenceEqual(signature) || !png[12..16].SequenceEqual("IHDR"u8))
            throw new ArgumentException($"{tag}: not a PNG image");
        var image = new Summary.Types.Image
        {
            Width = BinaryPrimitives.ReadInt32BigEndian(png[16..]),
            Height = BinaryPrimitives.ReadInt32BigEndian(png[20..]),
            // PNG colour types 0 grey, 4 grey + alpha, 2 RGB, 6 RGBA (3, a palette, decodes to RGB).
            Colorspace = png[25] switch { 0 => 1, 4 => 2, 6 => 4, _ => 3 },
            EncodedImageString = ByteString.CopyFrom(png),
        };
        Write(step, new Summary { Value = { new Summary.Types.Value { Tag = tag, Image = image } } });
    }

    /// <summary>Markdown under <paramref name="tag"/> (TensorBoard's Text tab): a string tensor for the "text" plugin.</summary>
    public void Text(string tag, string markdown, long step)
    {
        var tensor = new TensorProto { Dtype = DataType.DtString, TensorShape = new TensorShapeProto() };
        tensor.StringVal.Add(ByteString.CopyFrom(markdown, Encoding.UTF8));
        var metadata = new SummaryMetadata
        {
            PluginData = new SummaryMetadata.Types.PluginData { PluginName = "text" },
            DataClass = DataClass.Tensor,
        };
        Write(step, new Summary { Value = { new Summary.Types.Value { Tag = tag, Metadata = metadata, Tensor = tensor } } });
    }

    void Write(long step, Summary summary) => Write(new Event { Step = step, Summary = summary });

    void Write(Event entry)
    {
        entry.WallTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        byte[] data = entry.ToByteArray();
        var record = new byte[8 + 4 + data.Length + 4];
        BinaryPrimitives.WriteUInt64LittleEndian(record, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(8), MaskedCrc32C.Of(record.AsSpan(0, 8)));
        data.CopyTo(record, 12);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(12 + data.Length), MaskedCrc32C.Of(data));
        try
        {
            stream.Write(record);
        }
        catch (IOException e)
        {
            throw new FileWriteException(Path, e);
        }
    }

    public void Dispose() => stream.Dispose();
}
