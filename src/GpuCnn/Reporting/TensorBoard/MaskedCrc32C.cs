using System.Buffers.Binary;
using System.Numerics;

namespace GpuCnn.Reporting.TensorBoard;

/// <summary>
/// The checksum of TFRecord framing: CRC-32C (Castagnoli), then rotated right by 15 bits and
/// offset, so that a CRC of data that itself holds CRCs does not degenerate.
/// </summary>
public static class MaskedCrc32C
{
    /// <summary>CRC-32C of <paramref name="data"/> (of "123456789": 0xE3069283).</summary>
    public static uint Crc(ReadOnlySpan<byte> data)
    {
        // BitOperations.Crc32C is the SSE4.2 / ARM instruction where there is one, else a table.
        uint crc = ~0u;
        int i = 0;
        for (; i + 8 <= data.Length; i += 8) crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data[i..]));
        for (; i < data.Length; i++) crc = BitOperations.Crc32C(crc, data[i]);
        return ~crc;
    }

    public static uint Mask(uint crc) => ((crc >> 15) | (crc << 17)) + 0xa282ead8u;

    public static uint Of(ReadOnlySpan<byte> data) => Mask(Crc(data));
}
