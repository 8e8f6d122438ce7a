using System.Buffers.Binary;
using System.IO.Compression;

namespace OptEq.Tests.Data;

/// <summary>Writes small IDX files for the tests, independently of the reader under test.</summary>
internal static class IdxTestFiles
{
    /// <summary>Raw IDX bytes: 0, 0, type code, rank, big-endian dimensions, then the data.</summary>
    public static byte[] Encode(int[] dims, byte[] data, byte typeCode = 0x08)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[2] = typeCode;
        bytes[3] = (byte)dims.Length;
        for (int d = 0; d < dims.Length; d++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), dims[d]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    public static byte[] Gzip(byte[] raw)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Optimal)) gz.Write(raw);
        return ms.ToArray();
    }

    /// <summary>Writes <paramref name="raw"/> to dir/name, gzipped when <paramref name="gzip"/>; returns the path.</summary>
    public static string Write(string dir, string name, byte[] raw, bool gzip)
    {
        string path = Path.Combine(dir, name);
        File.WriteAllBytes(path, gzip ? Gzip(raw) : raw);
        return path;
    }
}
