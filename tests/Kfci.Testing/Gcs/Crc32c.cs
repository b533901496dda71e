namespace Kfci.Testing.Gcs;

/// <summary>CRC-32C (Castagnoli), the checksum GCS reports as <c>crc32c</c> and the official client validates uploads with.</summary>
internal static class Crc32c
{
    private static readonly uint[] s_table = BuildTable();

    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        crc = ~crc;
        foreach (var b in data)
        {
            crc = s_table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return ~crc;
    }

    /// <summary>The big-endian base64 form GCS uses in resources and <c>x-goog-hash</c>.</summary>
    public static string ToBase64(uint crc) =>
        Convert.ToBase64String([(byte)(crc >> 24), (byte)(crc >> 16), (byte)(crc >> 8), (byte)crc]);

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var entry = i;
            for (var bit = 0; bit < 8; bit++)
            {
                entry = (entry & 1) != 0 ? (entry >> 1) ^ 0x82F63B78u : entry >> 1;
            }

            table[i] = entry;
        }

        return table;
    }
}
