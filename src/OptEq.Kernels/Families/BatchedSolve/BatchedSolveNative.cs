using System.Numerics;

namespace OptEq.Kernels.Native;

/// <summary>The batched solve on the CPU: <see cref="SmallSolve"/> per system, systems split across the worker team.</summary>
internal sealed unsafe class BatchedSolveNative : IBatchedSolveBackend
{
    public void BatchedSolve<T>(int batch, int n, MatrixView<T> a, MatrixView<T> b, MatrixView<T> x, MatrixView<int> status) where T : unmanaged, IFloatingPointIeee754<T> =>
        // Work per system counted as 8·n³: pivoting and the branchy scalar loops cost several times the n³/3 flops.
        NativeParallel.For(batch, (long)n * n * n * 8, new SolveSystems<T> { A = a.Ptr(), B = b.Ptr(), X = x.Ptr(), Status = status.Ptr(), N = n });

    private struct SolveSystems<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* A, B, X;
        public int* Status;
        public int N;

        public readonly void Run(int s0, int s1)
        {
            for (int s = s0; s < s1; s++)
                Status[s] = SmallSolve.Solve(A + (long)s * N * N, B + (long)s * N, X + (long)s * N, N);
        }
    }
}

/// <summary>Gaussian elimination with partial pivoting on one small dense system, in place (the same algorithm as the ILGPU kernel).</summary>
public static unsafe class SmallSolve
{
    /// <summary>Returns 0 when solved, 1 when a pivot is zero or anything is non-finite.</summary>
    public static int Solve<T>(T* a, T* b, T* x, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int col = 0; col < n; col++)
        {
            int pivot = col;
            T best = T.Abs(a[col * n + col]);
            for (int r = col + 1; r < n; r++)
            {
                T v = T.Abs(a[r * n + col]);
                if (v > best) { best = v; pivot = r; }
            }
            if (!(best > T.Zero) || !T.IsFinite(best)) return 1;
            if (pivot != col)
            {
                for (int c = col; c < n; c++) (a[col * n + c], a[pivot * n + c]) = (a[pivot * n + c], a[col * n + c]);
                (b[col], b[pivot]) = (b[pivot], b[col]);
            }
            T inv = T.One / a[col * n + col];
            for (int r = col + 1; r < n; r++)
            {
                T factor = a[r * n + col] * inv;
                if (factor == T.Zero) continue;
                for (int c = col; c < n; c++) a[r * n + c] -= factor * a[col * n + c];
                b[r] -= factor * b[col];
            }
        }
        for (int r = n - 1; r >= 0; r--)
        {
            T sum = b[r];
            for (int c = r + 1; c < n; c++) sum -= a[r * n + c] * x[c];
            x[r] = sum / a[r * n + r];
            if (!T.IsFinite(x[r])) return 1;
        }
        return 0;
    }
}
