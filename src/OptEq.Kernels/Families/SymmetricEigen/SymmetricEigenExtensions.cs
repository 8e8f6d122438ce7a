using System.Numerics;

namespace OptEq.Kernels;

/// <summary>
/// The batched symmetric eigensolver: every eigenvalue and eigenvector of many small symmetric matrices (the splitting
/// matrices of a layer's neurons, docs/math.md §5), by cyclic Jacobi rotations, one matrix per thread.
/// </summary>
public static class SymmetricEigenExtensions
{
    /// <summary>Largest n accepted: Jacobi costs about 10·n³ per matrix, and one thread holds a matrix.</summary>
    public const int MaxSymmetricEigenSize = 256;

    /// <summary>The most Jacobi sweeps run (quadratic convergence needs 6–10 for n ≤ 256).</summary>
    public const int MaxSweeps = 30;

    /// <summary>
    /// For every s: values[s] ← the eigenvalues of the symmetric a[s] in ascending order, vectors[s, j, :] ← the unit
    /// eigenvector of values[s, j]. a: [batch, n, n] (only its symmetric part is meaningful; it is overwritten),
    /// values: [batch, n], vectors: [batch, n, n]. Sweeps stop once the off-diagonal mass is below
    /// u·‖a[s]‖_F (u: T's unit roundoff) or after <see cref="MaxSweeps"/>.
    /// </summary>
    public static void SymmetricEigen<T>(this Device device, Tensor<T> a, Tensor<T> values, Tensor<T> vectors) where T : unmanaged, IFloatingPointIeee754<T>
    {
        device.CheckSameDevice("symmetric-eigen", a, values, vectors);
        if (a.Rank != 3 || a.Shape[1] != a.Shape[2] || !a.IsContiguous)
            throw new ShapeException($"symmetric-eigen: a must be a contiguous [batch, n, n] tensor, got {ShapeUtil.Format(a.Shape)}");
        int batch = a.Shape[0], n = a.Shape[1];
        if (n > MaxSymmetricEigenSize)
            throw new ShapeException($"symmetric-eigen: n = {n} exceeds the supported {MaxSymmetricEigenSize} (use the Lanczos minimum eigenvector for large fan-in)");
        if (values.Rank != 2 || values.Shape[0] != batch || values.Shape[1] != n || !values.IsContiguous)
            throw new ShapeException($"symmetric-eigen: values must be a contiguous [{batch}, {n}] tensor, got {ShapeUtil.Format(values.Shape)}");
        if (vectors.Rank != 3 || vectors.Shape[0] != batch || vectors.Shape[1] != n || vectors.Shape[2] != n || !vectors.IsContiguous)
            throw new ShapeException($"symmetric-eigen: vectors must be a contiguous [{batch}, {n}, {n}] tensor, got {ShapeUtil.Format(vectors.Shape)}");
        if (ReferenceEquals(a.Storage, vectors.Storage) || ReferenceEquals(a.Storage, values.Storage) || ReferenceEquals(values.Storage, vectors.Storage))
            throw new ArgumentException("symmetric-eigen: a, values and vectors must be distinct tensors");
        if (batch == 0 || n == 0) return;
        device.Family<ISymmetricEigenBackend>().SymmetricEigen(batch, n, MatrixView<T>.Vector(a), MatrixView<T>.Vector(values), MatrixView<T>.Vector(vectors));
    }
}

/// <summary>What a backend implements for the batched symmetric eigensolver; every operand is contiguous.</summary>
internal interface ISymmetricEigenBackend
{
    void SymmetricEigen<T>(int batch, int n, MatrixView<T> a, MatrixView<T> values, MatrixView<T> vectors) where T : unmanaged, IFloatingPointIeee754<T>;
}
