using System.Numerics;
using ILGPU;

namespace OptEq.Kernels.Ilgpu.Kernels;

/// <summary>
/// Elementwise kernels over row-major matrices with row strides (ld = elements between rows); one thread per element,
/// grid-stride. References: <see cref="Reference.ReferenceKernels.AddBias"/>, <see cref="Reference.ReferenceKernels.Axpby"/>.
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
}
