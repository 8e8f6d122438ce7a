using System.Runtime.InteropServices;

namespace OptEq.Autodiff.Checkpoints;

/// <summary>One named tensor of a safetensors file: dtype, row-major shape and its raw little-endian bytes.</summary>
public sealed class SafetensorsTensor
{
    public const string MetadataKey = "__metadata__";

    public SafetensorsTensor(string name, SafetensorsDType dtype, int[] shape, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        if (name.Length == 0) throw new ArgumentException("a tensor name must not be empty", nameof(name));
        if (name == MetadataKey) throw new ArgumentException($"'{MetadataKey}' is reserved for the metadata, not a tensor name", nameof(name));
        long bytes = ByteCount(dtype, shape, out string? problem);
        if (problem is not null) throw new ArgumentException($"tensor '{name}': {problem}", nameof(shape));
        if (bytes != data.LongLength)
            throw new ArgumentException($"tensor '{name}': shape {FormatShape(shape)} of {dtype} needs {bytes} bytes, got {data.Length}", nameof(data));
        Name = name;
        DType = dtype;
        Shape = (int[])shape.Clone();
        Data = data;
    }

    /// <summary>A tensor holding a copy of <paramref name="values"/>.</summary>
    public static SafetensorsTensor FromValues<T>(string name, ReadOnlySpan<T> values, params int[] shape) where T : unmanaged
    {
        SafetensorsDTypes.EnsureLittleEndianHost();
        return new SafetensorsTensor(name, SafetensorsDTypes.Of<T>(), shape, MemoryMarshal.AsBytes(values).ToArray());
    }

    public string Name { get; }
    public SafetensorsDType DType { get; }
    public int[] Shape { get; }
    /// <summary>The elements as little-endian bytes, row-major.</summary>
    public byte[] Data { get; }
    public long ElementCount => Data.LongLength / DType.Size();

    /// <summary>The elements as <typeparamref name="T"/>; the dtype must be the one that stores T.</summary>
    public ReadOnlySpan<T> AsSpan<T>() where T : unmanaged
    {
        SafetensorsDTypes.EnsureLittleEndianHost();
        var wanted = SafetensorsDTypes.Of<T>();
        if (wanted != DType) throw new InvalidOperationException($"tensor '{Name}' is {DType}, not {wanted} ({typeof(T).Name})");
        return MemoryMarshal.Cast<byte, T>(Data);
    }

    public T[] ToArray<T>() where T : unmanaged => AsSpan<T>().ToArray();

    public override string ToString() => $"{Name} {DType} {FormatShape(Shape)}";

    public static string FormatShape(IReadOnlyList<int> shape) => $"[{string.Join(", ", shape)}]";

    /// <summary>Bytes that <paramref name="shape"/> of <paramref name="dtype"/> occupies; sets <paramref name="problem"/> when the shape is invalid.</summary>
    internal static long ByteCount(SafetensorsDType dtype, IReadOnlyList<int> shape, out string? problem)
    {
        problem = null;
        long bytes = dtype.Size();
        foreach (int d in shape)
        {
            if (d < 0) { problem = $"negative dimension in shape {FormatShape(shape)}"; return -1; }
            // One tensor lives in one byte array, so it is bounded by the largest array.
            if (d > 0 && bytes > Array.MaxLength / d) { problem = $"shape {FormatShape(shape)} of {dtype} is larger than one array can hold"; return -1; }
            bytes *= d;
        }
        return bytes;
    }
}
