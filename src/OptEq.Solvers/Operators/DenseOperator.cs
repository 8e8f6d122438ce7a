namespace OptEq.Solvers.Operators;

/// <summary>A dense matrix W [OutputSize, InputSize] as a linear operator: A·v = v·Wᵀ in row form (one GEMM).</summary>
public sealed class DenseOperator<T>(Tensor<T> matrix) : ILinearOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public Tensor<T> Matrix { get; } = matrix.Rank == 2 ? matrix : throw new ShapeException($"dense operator: the matrix must be rank 2, got [{string.Join(", ", matrix.Shape)}]");
    public Device Device => Matrix.Device;
    public int InputSize => Matrix.Shape[1];
    public int OutputSize => Matrix.Shape[0];

    public void Apply(Tensor<T> v, Tensor<T> result, T beta) => Device.Gemm(MatrixOp.None, MatrixOp.Transpose, T.One, v, Matrix, beta, result);

    public void ApplyTranspose(Tensor<T> v, Tensor<T> result, T beta) => Device.Gemm(MatrixOp.None, MatrixOp.None, T.One, v, Matrix, beta, result);
}
