namespace OptEq.Autodiff.Checkpoints;

/// <summary>Element types of the safetensors format; the names are the spec's dtype strings.</summary>
public enum SafetensorsDType
{
    BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64,
}

public static class SafetensorsDTypes
{
    private static readonly Dictionary<string, SafetensorsDType> ByName =
        Enum.GetValues<SafetensorsDType>().ToDictionary(t => t.ToString(), StringComparer.Ordinal);

    /// <summary>Bytes per element.</summary>
    public static int Size(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.BOOL or SafetensorsDType.U8 or SafetensorsDType.I8 or SafetensorsDType.F8_E5M2 or SafetensorsDType.F8_E4M3 => 1,
        SafetensorsDType.I16 or SafetensorsDType.U16 or SafetensorsDType.F16 or SafetensorsDType.BF16 => 2,
        SafetensorsDType.I32 or SafetensorsDType.U32 or SafetensorsDType.F32 => 4,
        SafetensorsDType.F64 or SafetensorsDType.I64 or SafetensorsDType.U64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    /// <summary>The dtype named exactly <paramref name="name"/> (case-sensitive, as in the spec).</summary>
    public static bool TryParse(string name, out SafetensorsDType dtype) => ByName.TryGetValue(name, out dtype);

    /// <summary>The dtype that stores <typeparamref name="T"/>: float F32, double F64, int I32, long I64, byte U8, Half F16.</summary>
    public static SafetensorsDType Of<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return SafetensorsDType.F32;
        if (typeof(T) == typeof(double)) return SafetensorsDType.F64;
        if (typeof(T) == typeof(int)) return SafetensorsDType.I32;
        if (typeof(T) == typeof(long)) return SafetensorsDType.I64;
        if (typeof(T) == typeof(byte)) return SafetensorsDType.U8;
        if (typeof(T) == typeof(Half)) return SafetensorsDType.F16;
        throw new NotSupportedException($"no safetensors dtype for {typeof(T).Name}");
    }

    /// <summary>
    /// The format is little-endian and tensors are copied as raw bytes; a big-endian host would need byte swaps that
    /// nothing here does, so it is refused rather than silently writing wrong files.
    /// </summary>
    internal static void EnsureLittleEndianHost()
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors I/O needs a little-endian host");
    }
}
