using System.Buffers.Binary;
using System.IO.Compression;

namespace OptEq.Autodiff.Data;

/// <summary>
/// Reads IDX files (the MNIST format), gzipped or not. The header is two zero bytes, a type code, the number of
/// dimensions, then one big-endian int32 per dimension; the elements follow, row-major. Only the unsigned-byte type
/// (0x08) is supported, which covers MNIST-style labels (magic 0x00000801) and images (0x00000803).
/// Every problem is an <see cref="InvalidDataException"/> whose message starts with the file's path.
/// </summary>
public static class IdxReader
{
    public const int LabelsMagic = 0x00000801;
    public const int ImagesMagic = 0x00000803;
    public const byte UnsignedByteType = 0x08;

    /// <summary>Reads a label file: one dimension (magic 0x00000801).</summary>
    public static IdxArray ReadLabels(string path) => Read(path, expectedDimensions: 1);

    /// <summary>Reads an image file: three dimensions, count × rows × cols (magic 0x00000803).</summary>
    public static IdxArray ReadImages(string path) => Read(path, expectedDimensions: 3);

    /// <summary>Reads any unsigned-byte IDX file; <paramref name="expectedDimensions"/>, when given, is checked.</summary>
    public static IdxArray Read(string path, int? expectedDimensions = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found", path);

        using var file = File.OpenRead(path);
        // Detect gzip by its magic bytes, not by the name: a renamed or decompressed-in-place file still reads.
        bool gzipped = IsGzip(file);
        file.Position = 0;
        using Stream stream = gzipped ? new GZipStream(file, CompressionMode.Decompress) : file;
        try
        {
            return Parse(stream, path, expectedDimensions);
        }
        catch (InvalidDataException e) when (gzipped && !e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            // GZipStream's own errors do not say which file was being read.
            throw new InvalidDataException($"{path}: corrupt gzip data: {e.Message}", e);
        }
    }

    private static bool IsGzip(FileStream file)
    {
        Span<byte> head = stackalloc byte[2];
        return file.ReadAtLeast(head, 2, throwOnEndOfStream: false) == 2 && head[0] == 0x1f && head[1] == 0x8b;
    }

    private static IdxArray Parse(Stream stream, string path, int? expectedDimensions)
    {
        Span<byte> magic = stackalloc byte[4];
        int got = stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        if (got < 4) throw Error(path, $"truncated: the IDX magic number needs 4 bytes, found {got}");
        uint magicValue = BinaryPrimitives.ReadUInt32BigEndian(magic);
        if (magic[0] != 0 || magic[1] != 0)
            throw Error(path, $"not an IDX file: magic number 0x{magicValue:X8} does not start with two zero bytes");
        if (magic[2] != UnsignedByteType)
            throw Error(path, $"magic number 0x{magicValue:X8} has type code 0x{magic[2]:X2} ({TypeName(magic[2])}); only 0x08 (unsigned byte) is supported");
        int rank = magic[3];
        if (rank == 0) throw Error(path, $"magic number 0x{magicValue:X8} declares 0 dimensions");
        if (expectedDimensions is int expected && rank != expected)
            throw Error(path, $"magic number 0x{magicValue:X8} declares {rank} dimension(s), expected {expected} " +
                              $"(labels are 0x{LabelsMagic:X8}, images 0x{ImagesMagic:X8})");

        var header = new byte[4 * rank];
        got = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        if (got < header.Length)
            throw Error(path, $"truncated: the header declares {rank} dimension(s) ({header.Length} bytes), found {got} bytes");
        var dims = new int[rank];
        long count = 1;
        for (int d = 0; d < rank; d++)
        {
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4 * d));
            if (dims[d] < 0) throw Error(path, $"dimension {d} is negative ({dims[d]})");
            count *= dims[d];
            if (count > Array.MaxLength)
                throw Error(path, $"dimensions [{string.Join(", ", dims[..(d + 1)])}] hold more elements than one array can ({Array.MaxLength})");
        }

        var data = new byte[count];
        got = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
        if (got < data.Length)
            throw Error(path, $"truncated: header says {Describe(dims)}, found {got} bytes");

        long extra = CountRemaining(stream);
        if (extra > 0)
            throw Error(path, $"{extra} bytes of trailing garbage after the {Describe(dims)} the header declares");
        return new IdxArray(path, dims, data);
    }

    private static long CountRemaining(Stream stream)
    {
        Span<byte> sink = stackalloc byte[4096];
        long total = 0;
        int n;
        while ((n = stream.Read(sink)) > 0) total += n;
        return total;
    }

    /// <summary>"10000 labels", "60000 images of 28×28 (47040000 bytes)", or the dimensions for other ranks.</summary>
    private static string Describe(int[] dims)
    {
        long bytes = dims.Aggregate(1L, (a, d) => a * d);
        return dims.Length switch
        {
            1 => $"{dims[0]} labels",
            3 => $"{dims[0]} images of {dims[1]}×{dims[2]} ({bytes} bytes)",
            _ => $"dimensions [{string.Join(", ", dims)}] ({bytes} bytes)",
        };
    }

    private static string TypeName(byte code) => code switch
    {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0B => "int16",
        0x0C => "int32",
        0x0D => "float32",
        0x0E => "float64",
        _ => "unknown type",
    };

    private static InvalidDataException Error(string path, string problem) => new($"{path}: {problem}");
}
