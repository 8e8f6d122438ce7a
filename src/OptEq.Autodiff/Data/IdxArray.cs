namespace OptEq.Autodiff.Data;

/// <summary>The contents of one IDX file: its dimensions and its unsigned-byte elements in row-major order.</summary>
public sealed class IdxArray
{
    public IdxArray(string source, int[] dimensions, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(dimensions);
        ArgumentNullException.ThrowIfNull(data);
        if (dimensions.Length == 0) throw new ArgumentException("an IDX array has at least one dimension", nameof(dimensions));
        long count = 1;
        foreach (int d in dimensions)
        {
            if (d < 0) throw new ArgumentException($"negative dimension {d}", nameof(dimensions));
            count *= d;
        }
        if (count != data.Length)
            throw new ArgumentException($"dimensions [{string.Join(", ", dimensions)}] hold {count} elements, data has {data.Length}", nameof(data));
        Source = source;
        Dimensions = dimensions;
        Data = data;
    }

    /// <summary>The file it was read from, for error messages.</summary>
    public string Source { get; }
    public int[] Dimensions { get; }
    public byte[] Data { get; }

    /// <summary>Number of items: the first dimension (labels or images).</summary>
    public int Count => Dimensions[0];

    public override string ToString() => $"{Source} [{string.Join(", ", Dimensions)}]";
}
