using System.Numerics;

namespace OptEq.Kernels.Native;

/// <summary>The batched symmetric eigensolver on the CPU: <see cref="JacobiEigen"/> per matrix, matrices split across the worker team.</summary>
internal sealed unsafe class SymmetricEigenNative : ISymmetricEigenBackend
{
    public void SymmetricEigen<T>(int batch, int n, MatrixView<T> a, MatrixView<T> values, MatrixView<T> vectors) where T : unmanaged, IFloatingPointIeee754<T> =>
        // About 8 sweeps of 3 rotations of n² each: 24·n³ scalar operations per matrix.
        NativeParallel.For(batch, 24L * n * n * n, new SolveMatrices<T> { A = a.Ptr(), Values = values.Ptr(), Vectors = vectors.Ptr(), N = n });

    private struct SolveMatrices<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* A, Values, Vectors;
        public int N;

        public readonly void Run(int s0, int s1)
        {
            for (int s = s0; s < s1; s++)
                JacobiEigen.Solve(A + (long)s * N * N, Values + (long)s * N, Vectors + (long)s * N * N, N);
        }
    }
}

/// <summary>Cyclic Jacobi on one symmetric matrix in place: the same rotations in the same order as the ILGPU kernel.</summary>
public static unsafe class JacobiEigen
{
    /// <summary>a (n×n) is overwritten; values ← ascending eigenvalues; vectors ← the eigenvectors as rows.</summary>
    public static void Solve<T>(T* a, T* values, T* v, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T two = T.One + T.One, total = T.Zero;
        for (int i = 0; i < n * n; i++) { v[i] = T.Zero; total += a[i] * a[i]; }
        for (int i = 0; i < n; i++) v[i * n + i] = T.One;
        T tolerance = T.Epsilon == T.Zero ? T.Zero : Roundoff<T>() * Roundoff<T>() * total;
        for (int sweep = 0; sweep < SymmetricEigenExtensions.MaxSweeps; sweep++)
        {
            T off = T.Zero;
            for (int p = 0; p < n; p++) for (int q = p + 1; q < n; q++) off += two * a[p * n + q] * a[p * n + q];
            if (!(off > tolerance)) break;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++)
                {
                    T apq = a[p * n + q];
                    if (apq == T.Zero) continue;
                    T theta = (a[q * n + q] - a[p * n + p]) / (two * apq);
                    T t = T.One / (T.Abs(theta) + T.Sqrt(theta * theta + T.One)); // θ² = ∞ gives t = 0: a negligible rotation
                    if (theta < T.Zero) t = -t;
                    T c = T.One / T.Sqrt(t * t + T.One), s = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        T kp = a[k * n + p], kq = a[k * n + q];
                        a[k * n + p] = c * kp - s * kq; a[k * n + q] = s * kp + c * kq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        T pk = a[p * n + k], qk = a[q * n + k];
                        a[p * n + k] = c * pk - s * qk; a[q * n + k] = s * pk + c * qk;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        T kp = v[k * n + p], kq = v[k * n + q];
                        v[k * n + p] = c * kp - s * kq; v[k * n + q] = s * kp + c * kq;
                    }
                }
        }
        for (int j = 0; j < n; j++) values[j] = a[j * n + j];
        // Selection sort, ascending (n is small), moving eigenvector columns with their values.
        for (int j = 0; j < n; j++)
        {
            int best = j;
            for (int k = j + 1; k < n; k++) if (values[k] < values[best]) best = k;
            if (best == j) continue;
            (values[j], values[best]) = (values[best], values[j]);
            for (int k = 0; k < n; k++) (v[k * n + j], v[k * n + best]) = (v[k * n + best], v[k * n + j]);
        }
        for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) (v[i * n + j], v[j * n + i]) = (v[j * n + i], v[i * n + j]);
    }

    /// <summary>The unit roundoff of T (2⁻²⁴ for float, 2⁻⁵³ for double, 2⁻¹¹ for half).</summary>
    public static T Roundoff<T>() where T : unmanaged, IFloatingPointIeee754<T>
        => T.CreateChecked(typeof(T) == typeof(double) ? Math.Pow(2, -53) : typeof(T) == typeof(float) ? Math.Pow(2, -24) : Math.Pow(2, -11));
}
