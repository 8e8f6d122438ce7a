using System.Numerics;

namespace OptEq.Kernels.Native;

/// <summary>The batched SPD inverse on the CPU: <see cref="SmallSpdInverse"/> per matrix, matrices split across the worker team.</summary>
internal sealed unsafe class SpdInverseNative : ISpdInverseBackend
{
    public void SpdInverse<T>(int batch, int n, MatrixView<T> a, T damping, MatrixView<T> result, MatrixView<int> status) where T : unmanaged, IFloatingPointIeee754<T> =>
        // Cholesky n³/3, triangular inverse n³/3, L⁻ᵀL⁻¹ n³/3 multiply-adds, scalar: counted as 2·n³.
        NativeParallel.For(batch, (long)n * n * n * 2, new InvertMatrices<T> { A = a.Ptr(), Result = result.Ptr(), Status = status.Ptr(), N = n, Damping = damping });

    private struct InvertMatrices<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* A, Result;
        public int* Status;
        public int N;
        public T Damping;

        public readonly void Run(int s0, int s1)
        {
            for (int s = s0; s < s1; s++)
                Status[s] = SmallSpdInverse.Invert(A + (long)s * N * N, Damping, Result + (long)s * N * N, N);
        }
    }
}

/// <summary>
/// (a + λI)⁻¹ of one symmetric matrix in place in result (the same algorithm as the ILGPU kernel, step for step): the
/// Cholesky factor L in result's lower triangle, then L⁻¹ over it column by column, then L⁻ᵀL⁻¹ row by row into the
/// lower triangle, mirrored to the upper.
/// </summary>
public static unsafe class SmallSpdInverse
{
    /// <summary>Returns 0 when inverted, 1 when a pivot is not positive or not finite.</summary>
    public static int Invert<T>(T* a, T damping, T* r, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int j = 0; j < n; j++)
        {
            T diagonal = a[j * n + j] + damping;
            for (int k = 0; k < j; k++) diagonal -= r[j * n + k] * r[j * n + k];
            if (!(diagonal > T.Zero) || !T.IsFinite(diagonal)) return 1;
            T pivot = T.Sqrt(diagonal);
            r[j * n + j] = pivot;
            for (int i = j + 1; i < n; i++)
            {
                T s = a[i * n + j];
                for (int k = 0; k < j; k++) s -= r[i * n + k] * r[j * n + k];
                r[i * n + j] = s / pivot;
            }
        }
        // L⁻¹ in place: column c reads L in columns ≥ c (untouched so far) and the L⁻¹ entries of column c above row i.
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
        // (L⁻ᵀL⁻¹)[i, j] = Σ_{k ≥ i} L⁻¹[k, i]·L⁻¹[k, j] for j ≤ i: row i reads rows ≥ i, so rows are done top-down, and
        // within a row j runs up to i (the diagonal entry of row i is read by every j and written last).
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
