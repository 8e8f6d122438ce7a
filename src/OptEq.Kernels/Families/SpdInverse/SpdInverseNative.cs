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
/// (a + λI)⁻¹ of one symmetric matrix in place in result, every inner loop a contiguous row operation at
/// <see cref="SimdWidth.Current"/> (dot products and axpys over row prefixes; the column-walking form of the ILGPU kernel
/// strides through memory and was ≈ 0.6 s for a 785 × 785 K-FAC factor): the Cholesky factor L by rows, then L⁻¹ by rows
/// over it, then L⁻ᵀL⁻¹ by rows over that, mirrored to the upper triangle. Each step is n³/6 multiply-adds.
/// </summary>
public static unsafe class SmallSpdInverse
{
    /// <summary>Returns 0 when inverted, 1 when a pivot is not positive or not finite.</summary>
    public static int Invert<T>(T* a, T damping, T* r, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // L by rows: L[i, j] = (a[i, j] − L[i, :j]·L[j, :j]) / L[j, j], then the pivot from the row's own norm.
        for (int i = 0; i < n; i++)
        {
            T* row = r + (long)i * n;
            for (int j = 0; j < i; j++)
                row[j] = (a[(long)i * n + j] - VectorDriver.Reduce(new DotOp<T>(), row, r + (long)j * n, j)) / r[(long)j * n + j];
            T diagonal = a[(long)i * n + i] + damping - VectorDriver.Reduce(new DotOp<T>(), row, row, i);
            if (!(diagonal > T.Zero) || !T.IsFinite(diagonal)) return 1;
            row[i] = T.Sqrt(diagonal);
        }
        // M = L⁻¹ by rows, in place: M[i, :] = (e_i − Σ_{k<i} L[i, k]·M[k, :]) / L[i, i]. Row i accumulates over itself in
        // ascending k: the axpy of k touches columns ≤ k only, so L[i, k] is still in place when its turn comes, and
        // column k is cleared just before (the accumulator starts at zero there).
        for (int i = 0; i < n; i++)
        {
            T* row = r + (long)i * n;
            for (int k = 0; k < i; k++)
            {
                T coefficient = row[k];
                row[k] = T.Zero;
                VectorDriver.Map(new AxpyOp<T>(coefficient), r + (long)k * n, row, row, k + 1);
            }
            T inverse = T.One / row[i];
            VectorDriver.Map(new ScaleOp<T>(-inverse), row, row, i);
            row[i] = inverse;
        }
        // X = MᵀM by rows, lower triangle: X[i, :i+1] = Σ_{k ≥ i} M[k, i]·M[k, :i+1]. Row i of M is last read here (later
        // rows of X use rows k > i), so X's row i overwrites it: the k = i term first (a scaling), then k > i.
        for (int i = 0; i < n; i++)
        {
            T* row = r + (long)i * n;
            VectorDriver.Map(new ScaleOp<T>(row[i]), row, row, i + 1);
            for (int k = i + 1; k < n; k++)
                VectorDriver.Map(new AxpyOp<T>(r[(long)k * n + i]), r + (long)k * n, row, row, i + 1);
        }
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) r[(long)i * n + j] = r[(long)j * n + i];
        return 0;
    }
}
