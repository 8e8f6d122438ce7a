namespace OptEq.Kernels;

/// <summary>The out-of-place matrix transpose.</summary>
public static class TransposeExtensions
{
    /// <summary>result ← aᵀ for a matrix a [m, n] and result [n, m] (distinct storage regions).</summary>
    public static void Transpose<T>(this Device device, Tensor<T> a, Tensor<T> result) where T : unmanaged
    {
        device.CheckSameDevice("transpose", a, result, result);
        if (a.Rank != 2 || result.Rank != 2 || result.Shape[0] != a.Shape[1] || result.Shape[1] != a.Shape[0])
            throw new ShapeException($"transpose: result must be [{(a.Rank == 2 ? a.Shape[1] : -1)}, {(a.Rank == 2 ? a.Shape[0] : -1)}] for a of shape {ShapeUtil.Format(a.Shape)}, got {ShapeUtil.Format(result.Shape)}");
        Checks.Matrix("transpose", "a", a);
        Checks.Matrix("transpose", "result", result);
        if (ReferenceEquals(a.Storage, result.Storage) && Checks.Overlaps(a, result))
            throw new ArgumentException("transpose: a and result overlap; transpose is out of place");
        device.Family<ITransposeBackend>().Transpose(a.Shape[0], a.Shape[1], MatrixView<T>.Of(a), MatrixView<T>.Of(result));
    }
}

/// <summary>What a backend implements for the transpose: result [n, m] ← a [m, n]ᵀ.</summary>
internal interface ITransposeBackend
{
    void Transpose<T>(int m, int n, MatrixView<T> a, MatrixView<T> result) where T : unmanaged;
}
