using System.Buffers.Binary;
using OptEq.Autodiff.Validation;

namespace OptEq.Autodiff.Data;

/// <summary>
/// Reads IDX files (the MNIST format), gzipped or not. The header is two zero bytes, a type code, the number of
/// dimensions, then one big-endian int32 per dimension; the elements follow, row-major. Only the unsigned-byte type
/// (0x08) is supported, which covers MNIST-style labels (magic 0x00000801) and images (0x00000803).
/// Every problem is an <see cref="InputException"/> whose message starts with the file's path; gzip is checked to its
/// trailer (<see cref="GzipFile"/>), and special files are refused before they are opened (<see cref="InputFiles"/>).
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
        byte[] bytes;
        using (var file = InputFiles.OpenRead(path, "IDX file"))
        {
            // Detect gzip by its magic bytes, not by the name: a renamed or decompressed-in-place file still reads.
            Span<byte> head = stackalloc byte[2];
            bool gzipped = GzipFile.HasMagic(head[..file.ReadAtLeast(head, 2, throwOnEndOfStream: false)]);
            if (gzipped) bytes = GzipFile.Decompress(file, path);
            else
            {
                if (file.Length > Array.MaxLength) throw Error(path, $"{file.Length} bytes is more than one array can hold ({Array.MaxLength})");
                bytes = new byte[file.Length];
                file.Position = 0;
                file.ReadExactly(bytes);
            }
        }
        return Parse(bytes, path, expectedDimensions);
    }

    /// <summary>Parses an IDX image held in memory: the sizes the header declares must account for every byte, checked before the elements are copied.</summary>
    public static IdxArray Parse(ReadOnlySpan<byte> bytes, string path, int? expectedDimensions = null)
    {
        if (bytes.Length < 4) throw Error(path, $"truncated: the IDX magic number needs 4 bytes, found {bytes.Length}");
        uint magicValue = BinaryPrimitives.ReadUInt32BigEndian(bytes);
        if (bytes[0] != 0 || bytes[1] != 0)
            throw Error(path, $"not an IDX file: magic number 0x{magicValue:X8} does not start with two zero bytes");
        if (bytes[2] != UnsignedByteType)
            throw Error(path, $"magic number 0x{magicValue:X8} has type code 0x{bytes[2]:X2} ({TypeName(bytes[2])}); only 0x08 (unsigned byte) is supported");
        int rank = bytes[3];
        if (rank == 0) throw Error(path, $"magic number 0x{magicValue:X8} declares 0 dimensions");
        if (expectedDimensions is int expected && rank != expected)
            throw Error(path, $"magic number 0x{magicValue:X8} declares {rank} dimension(s), expected {expected} " +
                              $"(labels are 0x{LabelsMagic:X8}, images 0x{ImagesMagic:X8})");

        int headerLength = 4 + 4 * rank;
        if (bytes.Length < headerLength)
            throw Error(path, $"truncated: the header declares {rank} dimension(s) ({4 * rank} bytes), found {bytes.Length - 4} bytes");
        var dims = new int[rank];
        long count = 1;
        for (int d = 0; d < rank; d++)
        {
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(bytes[(4 + 4 * d)..]);
            if (dims[d] < 0) throw Error(path, $"dimension {d} is negative ({dims[d]})");
            count *= dims[d];
            if (count > Array.MaxLength)
                throw Error(path, $"dimensions [{string.Join(", ", dims[..(d + 1)])}] hold more elements than one array can ({Array.MaxLength})");
        }

        long available = bytes.Length - headerLength;
        if (available < count)
            throw Error(path, $"truncated: header says {Describe(dims)}, found {available} bytes");
        if (available > count)
            throw Error(path, $"{available - count} bytes of trailing garbage after the {Describe(dims)} the header declares");
        return new IdxArray(path, dims, bytes[headerLength..].ToArray());
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

    private static InputException Error(string path, string problem) => InputException.Content(path, problem);
}
