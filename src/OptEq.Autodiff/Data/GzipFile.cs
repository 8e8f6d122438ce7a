using System.Buffers.Binary;
using System.IO.Compression;
using OptEq.Autodiff.Validation;

namespace OptEq.Autodiff.Data;

/// <summary>
/// Decompresses a one-member gzip file (RFC 1952) and checks it to its end: the header's method and flags, deflate data
/// that reaches its final block, then exactly the 8-byte trailer, whose CRC-32 and ISIZE must match what was
/// decompressed. Bytes after the trailer (garbage, or a second member, which the files we read never have) are an
/// error. The output is sized from ISIZE, bounded by the deflate format's largest ratio, before it is allocated.
/// Every problem is an <see cref="InputException"/> naming the file.
/// </summary>
public static class GzipFile
{
    private const int TrailerLength = 8;
    /// <summary>Deflate cannot expand a byte into more than 1032 (RFC 1951, one 258-byte match per two bits, roughly).</summary>
    private const long MaxRatio = 1032;

    public static bool HasMagic(ReadOnlySpan<byte> head) => head.Length >= 2 && head[0] == 0x1f && head[1] == 0x8b;

    /// <summary>Decompresses the whole of <paramref name="file"/> (positioned anywhere; read from its start).</summary>
    public static byte[] Decompress(FileStream file, string path)
    {
        long length = file.Length;
        file.Position = 0;
        int dataStart = ReadHeader(file, path, length);
        if (length - dataStart < TrailerLength + 2)
            throw Error(path, $"truncated: {length} bytes hold no deflate data and 8-byte trailer after the {dataStart}-byte header");

        Span<byte> trailer = stackalloc byte[TrailerLength];
        file.Position = length - TrailerLength;
        file.ReadExactly(trailer);
        uint expectedCrc = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        uint isize = BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]);
        long compressed = length - dataStart - TrailerLength;
        if (isize > Array.MaxLength || isize > compressed * MaxRatio)
            throw Error(path, $"the last 8 bytes are no gzip trailer: their size field says {isize} bytes, impossible for {compressed} compressed bytes (the file is truncated, or has bytes after the gzip member)");

        var output = new byte[isize];
        file.Position = dataStart;
        // Reads byte by byte over the last stretch, so the position where the deflate data ends is exact.
        var source = new ExactTailStream(file, slowFrom: Math.Max(dataStart, length - TrailerLength - 64));
        int produced = 0;
        bool overflow;
        try
        {
            using var inflater = new DeflateStream(source, CompressionMode.Decompress, leaveOpen: true);
            produced = inflater.ReadAtLeast(output, output.Length, throwOnEndOfStream: false);
            Span<byte> probe = stackalloc byte[1];
            overflow = inflater.Read(probe) > 0;
        }
        catch (InvalidDataException e)
        {
            throw Error(path, "corrupt deflate data (the compressed bytes are damaged)", e);
        }

        if (source.HitEnd) throw Error(path, "truncated: the deflate data ends before its final block");
        long after = length - source.Position;
        if (overflow) throw Error(path, $"decompresses to more than the {isize} bytes its trailer declares (truncated file, or garbage after the gzip member?)");
        if (source.Position <= source.SlowFrom && source.SlowFrom > dataStart)
            throw Error(path, $"the deflate data ends more than 64 bytes before the end of the file: garbage, or a second gzip member, after the first (not supported)");
        if (after < TrailerLength) throw Error(path, $"the 8-byte gzip trailer is missing or cut short ({after} bytes after the deflate data)");
        if (after > TrailerLength) throw Error(path, $"{after - TrailerLength} bytes of garbage after the gzip member's trailer");
        if (produced != isize) throw Error(path, $"decompresses to {produced} bytes but its trailer declares {isize} (ISIZE)");
        uint crc = Crc32.Compute(output);
        if (crc != expectedCrc) throw Error(path, $"CRC-32 mismatch: the data gives 0x{crc:X8}, the trailer says 0x{expectedCrc:X8} (corrupt file)");
        return output;
    }

    /// <summary>Checks the fixed header and skips its optional fields; returns where the deflate data starts.</summary>
    private static int ReadHeader(FileStream file, string path, long length)
    {
        Span<byte> head = stackalloc byte[10];
        if (file.ReadAtLeast(head, 10, throwOnEndOfStream: false) < 10) throw Error(path, $"truncated: {length} bytes, too short for a gzip header");
        if (!HasMagic(head)) throw Error(path, "not a gzip file (no 1F 8B magic)");
        if (head[2] != 8) throw Error(path, $"gzip compression method {head[2]} is not deflate (8)");
        byte flags = head[3];
        if ((flags & 0xE0) != 0) throw Error(path, $"gzip header flags 0x{flags:X2} set reserved bits");
        int position = 10;
        if ((flags & 0x04) != 0) // FEXTRA: a little-endian length, then that many bytes
        {
            Span<byte> xlen = stackalloc byte[2];
            if (file.ReadAtLeast(xlen, 2, throwOnEndOfStream: false) < 2) throw Error(path, "truncated in the gzip header's extra field");
            int extra = BinaryPrimitives.ReadUInt16LittleEndian(xlen);
            position += 2 + extra;
            if (position > length) throw Error(path, "truncated in the gzip header's extra field");
            file.Position = position;
        }
        if ((flags & 0x08) != 0) position = SkipZeroTerminated(file, path, position, "file name");
        if ((flags & 0x10) != 0) position = SkipZeroTerminated(file, path, position, "comment");
        if ((flags & 0x02) != 0) position += 2; // FHCRC
        if (position > length) throw Error(path, "truncated in the gzip header");
        return position;
    }

    private static int SkipZeroTerminated(FileStream file, string path, int position, string what)
    {
        int b;
        do
        {
            b = file.ReadByte();
            position++;
            if (b < 0) throw Error(path, $"truncated in the gzip header's {what}");
            if (position > 1 << 20) throw Error(path, $"the gzip header's {what} is over 1 MiB (corrupt header)");
        } while (b != 0);
        return position;
    }

    private static InputException Error(string path, string problem, Exception? inner = null) => InputException.Content(path, problem, inner);

    /// <summary>
    /// Reads in large chunks up to <see cref="SlowFrom"/>, then one byte per call, so that once the inflater stops
    /// asking, <see cref="Position"/> is exactly where its data ended. <see cref="HitEnd"/>: a read met the end of the file.
    /// </summary>
    private sealed class ExactTailStream(Stream inner, long slowFrom) : Stream
    {
        public long SlowFrom { get; } = slowFrom;
        public bool HitEnd { get; private set; }
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (buffer.IsEmpty) return 0;
            long position = inner.Position;
            int take = position < SlowFrom ? (int)Math.Min(buffer.Length, SlowFrom - position) : 1;
            int n = inner.Read(buffer[..take]);
            if (n == 0) HitEnd = true;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
