using System.Numerics;
using ILGPU;

namespace OptEq.Kernels.Ilgpu.Kernels;

/// <summary>
/// (a[s] + λI)⁻¹ for each matrix s, one thread per matrix, in place in result's global memory: Cholesky, triangular
/// inverse and L⁻ᵀL⁻¹ column by column (the native <see cref="Native.SmallSpdInverse.Invert{T}"/> computes the same three
/// factors by rows, vectorised; reference: <see cref="Reference.ReferenceKernels.SpdInverse"/>). status[s] ← 0 when inverted, 1 when a pivot is not positive or not finite.
/// </summary>
public static class SpdInverseKernel
{
    public static void Run<T>(ArrayView<T> a, ArrayView<T> result, ArrayView<int> status, T damping, int batch, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int s = Grid.GlobalIndex.X; s < batch; s += Grid.DimX * Group.DimX)
            status[s] = Invert(a.SubView((long)s * n * n, (long)n * n), damping, result.SubView((long)s * n * n, (long)n * n), n);
    }

    private static int Invert<T>(ArrayView<T> a, T damping, ArrayView<T> r, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int j = 0; j < n; j++)
        {
            T diagonal = a[j * n + j] + damping;
            for (int k = 0; k < j; k++) diagonal -= r[j * n + k] * r[j * n + k];
            // Not (d > 0 and d < ∞) is true for NaN too; a plain comparison compiles the same on every ILGPU backend.
            if (!(diagonal > T.Zero && diagonal < T.PositiveInfinity)) return 1;
            T pivot = T.Sqrt(diagonal);
            r[j * n + j] = pivot;
            for (int i = j + 1; i < n; i++)
            {
                T s = a[i * n + j];
                for (int k = 0; k < j; k++) s -= r[i * n + k] * r[j * n + k];
                r[i * n + j] = s / pivot;
            }
        }
        for (int c = 0; c < n; c++)
        {
            r[c * n + c] = T.One / r[c * n + c];
            for (int i = c + 1; i < n; i++)
            {
                T s = T.Zero;
                for (int k = c; k < i; k++) s += r[i * n + k] * r[k * n + c];
                r[i * n + c] = -s / r[i * n + i];
            }
        }
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
            {
                T s = T.Zero;
                for (int k = i; k < n; k++) s += r[k * n + i] * r[k * n + j];
                r[i * n + j] = s;
            }
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) r[i * n + j] = r[j * n + i];
        return 0;
    }
}
