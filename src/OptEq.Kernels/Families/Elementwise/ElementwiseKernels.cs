using System.Numerics;
using ILGPU;

namespace OptEq.Kernels.Ilgpu.Kernels;

/// <summary>
/// Elementwise kernels over row-major matrices with row strides (ld = elements between rows); one thread per element,
/// grid-stride. References: <see cref="Reference.ReferenceKernels.AddBias"/>, <see cref="Reference.ReferenceKernels.Axpby"/>;
/// the generic ops (map, update in place) are checked against plain loops in their tests.
/// Each element is read before it is written, so an output may be one of the inputs.
/// </summary>
public static class ElementwiseKernels
{
    public static void Copy<T>(ArrayView<T> src, long lds, ArrayView<T> dst, long ldd, int rows, int cols) where T : unmanaged
    {
        for (int r = GridStride.FirstRow; r < rows; r += GridStride.RowStep)
            for (int c = GridStride.FirstCol; c < cols; c += GridStride.ColStep)
                dst[r * ldd + c] = src[r * lds + c];
    }

    public static void Fill<T>(ArrayView<T> x, long ldx, int rows, int cols, T value) where T : unmanaged
    {
        for (int r = GridStride.FirstRow; r < rows; r += GridStride.RowStep)
            for (int c = GridStride.FirstCol; c < cols; c += GridStride.ColStep)
                x[r * ldx + c] = value;
    }

    /// <summary>y[r, c] ← x[r, c] + bias[c].</summary>
    public static void AddBias<T>(ArrayView<T> x, long ldx, ArrayView<T> bias, ArrayView<T> y, long ldy, int rows, int cols)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int r = GridStride.FirstRow; r < rows; r += GridStride.RowStep)
            for (int c = GridStride.FirstCol; c < cols; c += GridStride.ColStep)
                y[r * ldy + c] = x[r * ldx + c] + bias[c];
    }

    /// <summary>result ← α·x + β·y; with <paramref name="readY"/> = 0 (β is zero) y is not read, so NaN in y does not leak.</summary>
    public static void Axpby<T>(ArrayView<T> x, long ldx, ArrayView<T> y, long ldy, ArrayView<T> result, long ldr, int rows, int cols,
        T alpha, T beta, int readY) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int r = GridStride.FirstRow; r < rows; r += GridStride.RowStep)
            for (int c = GridStride.FirstCol; c < cols; c += GridStride.ColStep)
            {
                T v = alpha * x[r * ldx + c];
                if (readY != 0) v += beta * y[r * ldy + c];
                result[r * ldr + c] = v;
            }
    }

    /// <summary>result ← op(a, b, c, d) elementwise (a generic struct op, like the activations).</summary>
    public static void Map<T, TOp>(TOp op, ArrayView<T> result, long ldr, ArrayView<T> a, long lda, ArrayView<T> b, long ldb,
        ArrayView<T> c, long ldc, ArrayView<T> d, long ldd, int rows, int cols)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IScalarMap<T>
    {
        for (int r = GridStride.FirstRow; r < rows; r += GridStride.RowStep)
            for (int k = GridStride.FirstCol; k < cols; k += GridStride.ColStep)
                result[r * ldr + k] = op.Apply(a[r * lda + k], b[r * ldb + k], c[r * ldc + k], d[r * ldd + k]);
    }

    /// <summary>(a, b, c) ← op(a, b, c, d) elementwise, in place.</summary>
    public static void UpdateInPlace<T, TOp>(TOp op, ArrayView<T> a, long lda, ArrayView<T> b, long ldb, ArrayView<T> c, long ldc, ArrayView<T> d, long ldd, int rows, int cols)
        where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IScalarUpdate<T>
    {
        for (int r = GridStride.FirstRow; r < rows; r += GridStride.RowStep)
            for (int k = GridStride.FirstCol; k < cols; k += GridStride.ColStep)
            {
                var t = op.Apply(a[r * lda + k], b[r * ldb + k], c[r * ldc + k], d[r * ldd + k]);
                a[r * lda + k] = t.A;
                b[r * ldb + k] = t.B;
                c[r * ldc + k] = t.C;
            }
    }

    /// <summary>result[r, :] ← alpha[r]·x[r, :] + beta[r]·y[r, :]; y's row is not read where beta[r] is zero.</summary>
    public static void RowAxpby<T>(ArrayView<T> alpha, ArrayView<T> x, long ldx, ArrayView<T> beta, ArrayView<T> y, long ldy,
        ArrayView<T> result, long ldr, int rows, int cols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int r = GridStride.FirstRow; r < rows; r += GridStride.RowStep)
        {
            T al = alpha[r], be = beta[r];
            for (int k = GridStride.FirstCol; k < cols; k += GridStride.ColStep)
            {
                T v = al * x[r * ldx + k];
                if (be != T.Zero) v += be * y[r * ldy + k];
                result[r * ldr + k] = v;
            }
        }
    }

    /// <summary>result[r, :] ← condition[r] ≠ 0 ? a[r, :] : b[r, :].</summary>
    public static void SelectRows<T, TCond>(ArrayView<TCond> condition, ArrayView<T> a, long lda, ArrayView<T> b, long ldb,
        ArrayView<T> result, long ldr, int rows, int cols) where T : unmanaged where TCond : unmanaged, INumberBase<TCond>
    {
        for (int r = GridStride.FirstRow; r < rows; r += GridStride.RowStep)
        {
            bool takeA = condition[r] != TCond.Zero;
            for (int k = GridStride.FirstCol; k < cols; k += GridStride.ColStep)
                result[r * ldr + k] = takeA ? a[r * lda + k] : b[r * ldb + k];
        }
    }
}
