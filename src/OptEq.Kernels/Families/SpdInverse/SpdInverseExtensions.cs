using System.Numerics;

namespace OptEq.Kernels;

/// <summary>
/// The batched damped inverse of symmetric positive semi-definite matrices by Cholesky factorisation: the Kronecker
/// factors of DDPNOpt's K-FAC preconditioner (docs/math.md §6.2), refreshed every few steps, never inside a step's
/// per-sample work. One matrix per thread: the matrices are few (two per layer) and are inverted rarely.
/// </summary>
public static class SpdInverseExtensions
{
    /// <summary>
    /// For every s: result[s] ← (a[s] + λ·I)⁻¹, from the lower triangle of a[s] (a is not changed). a and result:
    /// contiguous [batch, n, n] (or [n, n] for one matrix), distinct; status: [batch] with 0 = inverted, 1 = a pivot of
    /// the Cholesky factorisation was not positive or a value not finite (result[s] must not be used then).
    /// </summary>
    public static void SpdInverse<T>(this Device device, Tensor<T> a, T damping, Tensor<T> result, Tensor<int> status) where T : unmanaged, IFloatingPointIeee754<T>
    {
        device.CheckSameDevice("spd-inverse", a, result);
        if (status.Device != device) throw new ArgumentException("spd-inverse: status lives on another device");
        if (a.Rank is not (2 or 3) || a.Shape[^1] != a.Shape[^2] || !a.IsContiguous)
            throw new ShapeException($"spd-inverse: a must be a contiguous [batch, n, n] or [n, n] tensor, got {ShapeUtil.Format(a.Shape)}");
        if (!result.IsContiguous || !result.Shape.SequenceEqual(a.Shape))
            throw new ShapeException($"spd-inverse: result must be contiguous with a's shape {ShapeUtil.Format(a.Shape)}, got {ShapeUtil.Format(result.Shape)}");
        if (ReferenceEquals(a.Storage, result.Storage)) throw new ArgumentException("spd-inverse: a and result must be distinct tensors");
        int n = a.Shape[^1], batch = a.Rank == 3 ? a.Shape[0] : 1;
        if (status.Length != batch || !status.IsContiguous)
            throw new ShapeException($"spd-inverse: status must be contiguous with {batch} elements, got {ShapeUtil.Format(status.Shape)}");
        if (!(damping >= T.Zero)) throw new ArgumentOutOfRangeException(nameof(damping), damping, "spd-inverse: the damping must be ≥ 0");
        if (batch == 0 || n == 0) return;
        device.Family<ISpdInverseBackend>().SpdInverse(batch, n, MatrixView<T>.Vector(a), damping, MatrixView<T>.Vector(result), MatrixView<int>.Vector(status));
    }
}

/// <summary>What a backend implements for the batched damped SPD inverse; every operand is contiguous.</summary>
internal interface ISpdInverseBackend
{
    void SpdInverse<T>(int batch, int n, MatrixView<T> a, T damping, MatrixView<T> result, MatrixView<int> status) where T : unmanaged, IFloatingPointIeee754<T>;
}
