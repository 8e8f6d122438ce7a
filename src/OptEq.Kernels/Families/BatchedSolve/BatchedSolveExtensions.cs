using System.Numerics;

namespace OptEq.Kernels;

/// <summary>The batched small solve: one dense n×n system per sample (Anderson's bordered systems).</summary>
public static class BatchedSolveExtensions
{
    /// <summary>Largest n accepted by <see cref="BatchedSolve{T}"/>.</summary>
    public const int MaxBatchedSolveSize = 64;

    /// <summary>
    /// Solves A[s]·x[s] = b[s] for every sample s by Gaussian elimination with partial pivoting (LAPACK gesv semantics:
    /// A and b are overwritten; x may be b). a: [batch, n, n], b and x: [batch, n], status: [batch] with 0 = solved,
    /// 1 = singular or non-finite (x[s] is then left as b[s]'s partly eliminated values and must not be used).
    /// </summary>
    public static void BatchedSolve<T>(this Device device, Tensor<T> a, Tensor<T> b, Tensor<T> x, Tensor<int> status) where T : unmanaged, IFloatingPointIeee754<T>
    {
        device.CheckSameDevice("batched-solve", a, b, x);
        if (status.Device != device) throw new ArgumentException("batched-solve: status lives on another device");
        if (a.Rank != 3 || a.Shape[1] != a.Shape[2] || !a.IsContiguous)
            throw new ShapeException($"batched-solve: A must be a contiguous [batch, n, n] tensor, got {ShapeUtil.Format(a.Shape)}");
        int batch = a.Shape[0], n = a.Shape[1];
        if (n > MaxBatchedSolveSize)
            throw new ShapeException($"batched-solve: n = {n} exceeds the supported {MaxBatchedSolveSize} (the solver is for small systems, one per sample)");
        CheckVectors("b", b, batch, n); // not a loop over a new array: Anderson calls this every iteration
        CheckVectors("x", x, batch, n);
        if (status.Length != batch || !status.IsContiguous)
            throw new ShapeException($"batched-solve: status must be contiguous with {batch} elements, got {ShapeUtil.Format(status.Shape)}");
        if (batch == 0 || n == 0) return;
        device.Family<IBatchedSolveBackend>().BatchedSolve(batch, n, MatrixView<T>.Vector(a), MatrixView<T>.Vector(b), MatrixView<T>.Vector(x), MatrixView<int>.Vector(status));
    }

    private static void CheckVectors<T>(string name, Tensor<T> t, int batch, int n) where T : unmanaged
    {
        if (t.Rank != 2 || t.Shape[0] != batch || t.Shape[1] != n || !t.IsContiguous)
            throw new ShapeException($"batched-solve: {name} must be a contiguous [{batch}, {n}] tensor, got {ShapeUtil.Format(t.Shape)}");
    }
}

/// <summary>What a backend implements for the batched solve; every operand is contiguous.</summary>
internal interface IBatchedSolveBackend
{
    void BatchedSolve<T>(int batch, int n, MatrixView<T> a, MatrixView<T> b, MatrixView<T> x, MatrixView<int> status) where T : unmanaged, IFloatingPointIeee754<T>;
}
