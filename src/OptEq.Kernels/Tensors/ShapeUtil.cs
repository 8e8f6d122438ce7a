namespace OptEq.Kernels;

/// <summary>Raised for a shape, stride or size that an operation cannot accept; thrown before any kernel runs.</summary>
public sealed class ShapeException(string message) : ArgumentException(message);

internal static class ShapeUtil
{
    public static long Count(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (var d in shape) n *= d;
        return n;
    }

    public static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";

    public static long[] RowMajorStrides(ReadOnlySpan<int> shape)
    {
        var strides = new long[shape.Length];
        long s = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            strides[d] = s;
            s *= Math.Max(1, shape[d]);
        }
        return strides;
    }

    public static bool IsContiguous(ReadOnlySpan<int> shape, ReadOnlySpan<long> strides)
    {
        long expected = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            if (shape[d] != 1 && strides[d] != expected) return false;
            expected *= shape[d];
        }
        return true;
    }

    public static int[] Validate(int[] shape)
    {
        foreach (var d in shape)
            if (d < 0) throw new ShapeException($"shape {Format(shape)} has a negative dimension");
        return (int[])shape.Clone();
    }

    /// <summary>Resolves one -1 dimension and checks the element count.</summary>
    public static int[] Resolve(int[] shape, long length)
    {
        var result = (int[])shape.Clone();
        int inferred = -1;
        long known = 1;
        for (int d = 0; d < result.Length; d++)
        {
            if (result[d] == -1)
            {
                if (inferred >= 0) throw new ShapeException($"reshape {Format(shape)} has more than one -1");
                inferred = d;
            }
            else if (result[d] < 0) throw new ShapeException($"reshape {Format(shape)} has a negative dimension");
            else known *= result[d];
        }
        if (inferred >= 0)
        {
            if (known == 0 || length % known != 0)
                throw new ShapeException($"cannot reshape {length} elements to {Format(shape)}");
            result[inferred] = (int)(length / known);
        }
        else if (known != length)
            throw new ShapeException($"cannot reshape {length} elements to {Format(shape)}");
        return result;
    }
}
