using System.Numerics;
using ILGPU;

namespace OptEq.Kernels.Ilgpu.Kernels;

/// <summary>The square root the Jacobi kernel needs, as a constrained struct so one generic kernel serves float and double.</summary>
public interface IJacobiSqrt<T> where T : unmanaged
{
    T Sqrt(T x);
}

public readonly struct SqrtFloat : IJacobiSqrt<float> { public float Sqrt(float x) => MathF.Sqrt(x); }
public readonly struct SqrtDouble : IJacobiSqrt<double> { public double Sqrt(double x) => Math.Sqrt(x); }

/// <summary>
/// Cyclic Jacobi eigendecomposition of each symmetric n×n matrix, one thread per matrix, in place in global memory:
/// the same rotations in the same order as <see cref="Native.JacobiEigen.Solve{T}"/> (reference:
/// <see cref="Reference.ReferenceKernels.SymmetricEigen"/>). values[s] ascending; vectors[s] holds eigenvectors as rows.
/// For the small fan-in of splitting matrices one thread per matrix is enough: there are as many matrices as neurons.
/// </summary>
public static class SymmetricEigenKernel
{
    public static void Run<T, TSqrt>(ArrayView<T> a, ArrayView<T> values, ArrayView<T> vectors, int batch, int n, T roundoffSquared, TSqrt root)
        where T : unmanaged, IFloatingPointIeee754<T> where TSqrt : struct, IJacobiSqrt<T>
    {
        for (int s = Grid.GlobalIndex.X; s < batch; s += Grid.DimX * Group.DimX)
            Solve(a.SubView((long)s * n * n, (long)n * n), values.SubView((long)s * n, n), vectors.SubView((long)s * n * n, (long)n * n), n, roundoffSquared, root);
    }

    private static void Solve<T, TSqrt>(ArrayView<T> a, ArrayView<T> values, ArrayView<T> v, int n, T roundoffSquared, TSqrt root)
        where T : unmanaged, IFloatingPointIeee754<T> where TSqrt : struct, IJacobiSqrt<T>
    {
        T two = T.One + T.One, total = T.Zero;
        for (int i = 0; i < n * n; i++) { v[i] = T.Zero; total += a[i] * a[i]; }
        for (int i = 0; i < n; i++) v[i * n + i] = T.One;
        T tolerance = roundoffSquared * total;
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
                    T t = T.One / (T.Abs(theta) + root.Sqrt(theta * theta + T.One));
                    if (theta < T.Zero) t = -t;
                    T c = T.One / root.Sqrt(t * t + T.One), sn = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        T kp = a[k * n + p], kq = a[k * n + q];
                        a[k * n + p] = c * kp - sn * kq; a[k * n + q] = sn * kp + c * kq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        T pk = a[p * n + k], qk = a[q * n + k];
                        a[p * n + k] = c * pk - sn * qk; a[q * n + k] = sn * pk + c * qk;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        T kp = v[k * n + p], kq = v[k * n + q];
                        v[k * n + p] = c * kp - sn * kq; v[k * n + q] = sn * kp + c * kq;
                    }
                }
        }
        for (int j = 0; j < n; j++) values[j] = a[j * n + j];
        for (int j = 0; j < n; j++)
        {
            int best = j;
            for (int k = j + 1; k < n; k++) if (values[k] < values[best]) best = k;
            if (best == j) continue;
            T tv = values[j]; values[j] = values[best]; values[best] = tv;
            for (int k = 0; k < n; k++) { T tk = v[k * n + j]; v[k * n + j] = v[k * n + best]; v[k * n + best] = tk; }
        }
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) { T t = v[i * n + j]; v[i * n + j] = v[j * n + i]; v[j * n + i] = t; }
    }
}
