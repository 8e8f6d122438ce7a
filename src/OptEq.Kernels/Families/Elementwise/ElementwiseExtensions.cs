using System.Numerics;

namespace OptEq.Kernels;

/// <summary>
/// Elementwise kernels over matrix-like tensors (any row stride): copy, fill, bias, axpby, the generic map and in-place
/// update, and their per-row forms. Arguments are checked here, then the device's <see cref="IElementwiseBackend"/> runs.
/// </summary>
public static class ElementwiseExtensions
{
    /// <summary>dst ← src (same shape, any matrix-like strides).</summary>
    public static void Copy<T>(this Device device, Tensor<T> src, Tensor<T> dst) where T : unmanaged
    {
        var (rows, cols) = Checks.SameMatrixShape("copy", src, dst);
        device.Family<IElementwiseBackend>().Copy(rows, cols, MatrixView<T>.Of(src), MatrixView<T>.Of(dst));
    }

    /// <summary>Every element of <paramref name="x"/> ← <paramref name="value"/>.</summary>
    public static void Fill<T>(this Device device, Tensor<T> x, T value) where T : unmanaged
    {
        Checks.Matrix("fill", "x", x);
        device.Family<IElementwiseBackend>().Fill(x.Rows, x.Cols, MatrixView<T>.Of(x), value);
    }

    /// <summary>y[i, j] ← x[i, j] + bias[j] (bias broadcast over rows; y may be x).</summary>
    public static void AddBias<T>(this Device device, Tensor<T> x, Tensor<T> bias, Tensor<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        device.CheckSameDevice("add-bias", x, bias, y);
        var (rows, cols) = Checks.SameMatrixShape("add-bias", x, y);
        if (bias.Length != cols || !bias.IsContiguous)
            throw new ShapeException($"add-bias: bias must be contiguous with {cols} elements (one per column of x {ShapeUtil.Format(x.Shape)}), got {ShapeUtil.Format(bias.Shape)}");
        device.Family<IElementwiseBackend>().AddBias(rows, cols, MatrixView<T>.Of(x), MatrixView<T>.Vector(bias), MatrixView<T>.Of(y));
    }

    /// <summary>result ← α·x + β·y, elementwise (result may be x or y). When β is zero, y is not read.</summary>
    public static void Axpby<T>(this Device device, T alpha, Tensor<T> x, T beta, Tensor<T> y, Tensor<T> result) where T : unmanaged, IFloatingPointIeee754<T>
    {
        device.CheckSameDevice("axpby", x, y, result);
        Checks.SameMatrixShape("axpby", x, y);
        var (rows, cols) = Checks.SameMatrixShape("axpby", x, result);
        device.Family<IElementwiseBackend>().Axpby(rows, cols, alpha, MatrixView<T>.Of(x), beta, MatrixView<T>.Of(y), MatrixView<T>.Of(result));
    }

    /// <summary>result ← op(a, b, c, d) elementwise; missing inputs are replaced by a. All tensors share a's shape; result may alias an input.</summary>
    public static void Map<T, TOp>(this Device device, TOp op, Tensor<T> result, Tensor<T> a, Tensor<T>? b = null, Tensor<T>? c = null, Tensor<T>? d = null)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IScalarMap<T>
    {
        b ??= a; c ??= a; d ??= a;
        device.CheckSameDevice("map", result, a, b, c, d);
        var (rows, cols) = Checks.SameMatrixShape("map", a, result);
        Checks.SameMatrixShape("map", a, b);
        Checks.SameMatrixShape("map", a, c);
        Checks.SameMatrixShape("map", a, d);
        device.Family<IElementwiseBackend>().Map(op, rows, cols, MatrixView<T>.Of(result), new Quad<T>(MatrixView<T>.Of(a), MatrixView<T>.Of(b), MatrixView<T>.Of(c), MatrixView<T>.Of(d)));
    }

    /// <summary>(a, b, c) ← op(a, b, c, d) elementwise, in place; all four share a's shape and must not overlap one another.</summary>
    public static void UpdateInPlace<T, TOp>(this Device device, TOp op, Tensor<T> a, Tensor<T> b, Tensor<T> c, Tensor<T> d)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IScalarUpdate<T>
    {
        device.CheckSameDevice("update-in-place", a, b, c, d);
        var (rows, cols) = Checks.SameMatrixShape("update-in-place", a, b);
        Checks.SameMatrixShape("update-in-place", a, c);
        Checks.SameMatrixShape("update-in-place", a, d);
        Checks.NoOverlap("update-in-place", "b", b, a);
        Checks.NoOverlap("update-in-place", "c", c, a);
        Checks.NoOverlap("update-in-place", "c", c, b);
        device.Family<IElementwiseBackend>().UpdateInPlace(op, rows, cols, new Quad<T>(MatrixView<T>.Of(a), MatrixView<T>.Of(b), MatrixView<T>.Of(c), MatrixView<T>.Of(d)));
    }

    /// <summary>result[i, :] ← alpha[i]·x[i, :] + beta[i]·y[i, :]. Where beta[i] is zero, row i of y is not read.</summary>
    public static void RowAxpby<T>(this Device device, Tensor<T> alpha, Tensor<T> x, Tensor<T> beta, Tensor<T> y, Tensor<T> result) where T : unmanaged, IFloatingPointIeee754<T>
    {
        device.CheckSameDevice("row-axpby", alpha, x, beta, y, result);
        Checks.SameMatrixShape("row-axpby", x, y);
        var (rows, cols) = Checks.SameMatrixShape("row-axpby", x, result);
        Checks.RowVector("row-axpby", "alpha", alpha, rows);
        Checks.RowVector("row-axpby", "beta", beta, rows);
        device.Family<IElementwiseBackend>().RowAxpby(rows, cols, MatrixView<T>.Vector(alpha), MatrixView<T>.Of(x), MatrixView<T>.Vector(beta), MatrixView<T>.Of(y), MatrixView<T>.Of(result));
    }

    /// <summary>result[i, :] ← condition[i] ≠ 0 ? a[i, :] : b[i, :]. result may alias a or b; only the chosen row is read.</summary>
    public static void SelectRows<T, TCond>(this Device device, Tensor<TCond> condition, Tensor<T> a, Tensor<T> b, Tensor<T> result)
        where T : unmanaged, IFloatingPointIeee754<T> where TCond : unmanaged, INumberBase<TCond>
    {
        device.CheckSameDevice("select-rows", a, b, result);
        if (condition.Device != device) throw new ArgumentException($"select-rows: condition lives on {condition.Device.Id}, not on {device.Id}");
        Checks.SameMatrixShape("select-rows", a, b);
        var (rows, cols) = Checks.SameMatrixShape("select-rows", a, result);
        Checks.RowVector("select-rows", "condition", condition, rows);
        device.Family<IElementwiseBackend>().SelectRows(rows, cols, MatrixView<TCond>.Vector(condition), MatrixView<T>.Of(a), MatrixView<T>.Of(b), MatrixView<T>.Of(result));
    }
}

/// <summary>The four same-shaped operands of a map or an in-place update.</summary>
internal readonly record struct Quad<T>(MatrixView<T> A, MatrixView<T> B, MatrixView<T> C, MatrixView<T> D) where T : unmanaged;

/// <summary>What a backend implements for the elementwise family. Shapes are checked; rows × cols may be empty.</summary>
internal interface IElementwiseBackend
{
    void Copy<T>(int rows, int cols, MatrixView<T> src, MatrixView<T> dst) where T : unmanaged;
    void Fill<T>(int rows, int cols, MatrixView<T> x, T value) where T : unmanaged;
    void AddBias<T>(int rows, int cols, MatrixView<T> x, MatrixView<T> bias, MatrixView<T> y) where T : unmanaged, IFloatingPointIeee754<T>;
    void Axpby<T>(int rows, int cols, T alpha, MatrixView<T> x, T beta, MatrixView<T> y, MatrixView<T> result) where T : unmanaged, IFloatingPointIeee754<T>;
    void Map<T, TOp>(TOp op, int rows, int cols, MatrixView<T> result, Quad<T> inputs) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IScalarMap<T>;
    void UpdateInPlace<T, TOp>(TOp op, int rows, int cols, Quad<T> operands) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IScalarUpdate<T>;
    void RowAxpby<T>(int rows, int cols, MatrixView<T> alpha, MatrixView<T> x, MatrixView<T> beta, MatrixView<T> y, MatrixView<T> result) where T : unmanaged, IFloatingPointIeee754<T>;
    void SelectRows<T, TCond>(int rows, int cols, MatrixView<TCond> condition, MatrixView<T> a, MatrixView<T> b, MatrixView<T> result)
        where T : unmanaged, IFloatingPointIeee754<T> where TCond : unmanaged, INumberBase<TCond>;
}
