using GpuCnn.IO;
using System.Buffers.Binary;
using System.IO.Compression;

namespace GpuCnn.Data;

/// <summary>An IDX array of unsigned bytes: its dimensions and values.</summary>
public sealed record IdxArray(int[] Dimensions, byte[] Values);

/// <summary>
/// Reads and writes the IDX format of (Fashion-)MNIST: magic 0x0000_08_NN (unsigned bytes, NN
/// dimensions), NN big-endian int32 sizes, then the values. Gzip is detected by its magic bytes.
/// </summary>
public static class IdxFile
{
    const int UnsignedByteType = 0x08;

    /// <summary>Four times the largest Fashion-MNIST file (47 MB of training images).</summary>
    const long MaxDecompressedBytes = 200L << 20;

    public static IdxArray Read(string path)
    {
        if (!File.Exists(path)) throw new DataFileException(path, "file not found");
        byte[] raw;
        try
        {
            raw = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFileException(path, $"cannot be read ({e.Message})", e);
        }
        if (raw.Length == 0) throw new DataFileException(path, "file is empty");
        byte[] data = raw.Length >= 2 && raw[0] == 0x1f && raw[1] == 0x8b ? Gunzip(path, raw) : raw;
        return Parse(path, data);
    }

    static byte[] Gunzip(string path, byte[] raw)
    {
        try
        {
            using var gzip = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
            using var output = new MemoryStream();
            // Copied in blocks with a ceiling, so corrupt data that inflates without end stops with an error, not out of memory.
            var block = new byte[1 << 16];
            for (int read; (read = gzip.Read(block)) > 0;)
            {
                output.Write(block, 0, read);
                if (output.Length > MaxDecompressedBytes)
                    throw new DataFileException(path, $"gzip data inflates past {MaxDecompressedBytes >> 20} MiB; not an IDX file of this data set");
            }
            // GZipStream returns what it could decode from a cut-off file without complaint; the
            // trailer's last word (uncompressed length mod 2³²) tells a complete file from a cut one.
            uint declared = raw.Length < 18 ? 0 : BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(raw.Length - 4));
            if (raw.Length < 18 || declared != (uint)output.Length)
                throw new DataFileException(path,
                    $"corrupt or truncated gzip data (decompressed {output.Length} bytes, the gzip trailer says {declared})");
            return output.ToArray();
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException)
        {
            throw new DataFileException(path, $"corrupt or truncated gzip data ({e.Message})", e);
        }
    }

    static IdxArray Parse(string path, byte[] data)
    {
        if (data.Length < 4)
            throw new DataFileException(path, $"too short for an IDX header ({data.Length} bytes)");
        uint magic = BinaryPrimitives.ReadUInt32BigEndian(data);
        int rank = (int)(magic & 0xff);
        if ((magic >> 16) != 0 || ((magic >> 8) & 0xff) != UnsignedByteType || rank is < 1 or > 4)
            throw new DataFileException(path,
                $"not an IDX file of unsigned bytes (magic number 0x{magic:x8}; expected 0x00000801 for labels or 0x00000803 for images)");
        int header = 4 + 4 * rank;
        if (data.Length < header)
            throw new DataFileException(path, $"IDX header is truncated ({data.Length} bytes, needs {header})");
        var dims = new int[rank];
        long count = 1;
        for (int i = 0; i < rank; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(4 + 4 * i));
            if (dims[i] < 0) throw new DataFileException(path, $"dimension {i} is negative ({dims[i]})");
            count *= dims[i];
        }
        long actual = data.Length - header;
        if (actual != count)
            throw new DataFileException(path,
                $"header declares {string.Join("x", dims)} = {count} values but the file holds {actual} (truncated or padded)");
        return new IdxArray(dims, data.AsSpan(header).ToArray());
    }

    /// <summary>Writes gzip-compressed IDX atomically: a temporary file, then a rename.</summary>
    public static void WriteGzip(string path, int[] dimensions, byte[] values)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            Span<byte> word = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(word, (uint)(UnsignedByteType << 8 | dimensions.Length));
            gzip.Write(word);
            foreach (int d in dimensions)
            {
                BinaryPrimitives.WriteInt32BigEndian(word, d);
                gzip.Write(word);
            }
            gzip.Write(values);
        }
        AtomicFile.Write(path, buffer.ToArray());
    }
}
