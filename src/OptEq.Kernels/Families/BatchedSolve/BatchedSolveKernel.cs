using System.Numerics;
using ILGPU;

namespace OptEq.Kernels.Ilgpu.Kernels;

/// <summary>
/// Solves A[s]·x[s] = b[s] for each sample s, one thread per sample, in place in global memory: the same Gaussian
/// elimination with partial pivoting as <see cref="Native.SmallSolve.Solve{T}"/>, step for step, so both backends
/// agree on which systems fail. status[s] ← 0 when solved, 1 when a pivot is not positive or not finite, or a solution
/// component is not finite. A and b are overwritten; x may be b.
/// </summary>
public static class BatchedSolveKernel
{
    public static void Run<T>(ArrayView<T> a, ArrayView<T> b, ArrayView<T> x, ArrayView<int> status, int batch, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int s = Grid.GlobalIndex.X; s < batch; s += Grid.DimX * Group.DimX)
            status[s] = Solve(a.SubView((long)s * n * n, (long)n * n), b.SubView((long)s * n, n), x.SubView((long)s * n, n), n);
    }

    private static int Solve<T>(ArrayView<T> a, ArrayView<T> b, ArrayView<T> x, int n) where T : unmanaged, IFloatingPointIeee754<T>
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
            if (!(best > T.Zero) || !IsFinite(best)) return 1;
            if (pivot != col)
            {
                for (int c = col; c < n; c++)
                {
                    T t = a[col * n + c];
                    a[col * n + c] = a[pivot * n + c];
                    a[pivot * n + c] = t;
                }
                T tb = b[col];
                b[col] = b[pivot];
                b[pivot] = tb;
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
            T sum = b[r]; // read before x[r] is written: x may be b
            for (int c = r + 1; c < n; c++) sum -= a[r * n + c] * x[c];
            x[r] = sum / a[r * n + r];
            if (!IsFinite(x[r])) return 1;
        }
        return 0;
    }

    // |v| < ∞ is false for ±∞ and NaN; a plain comparison compiles the same on every ILGPU backend.
    private static bool IsFinite<T>(T v) where T : unmanaged, IFloatingPointIeee754<T> => T.Abs(v) < T.PositiveInfinity;
}
