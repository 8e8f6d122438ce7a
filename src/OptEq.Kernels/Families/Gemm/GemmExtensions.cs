using System.Numerics;
using OptEq.Kernels.Activations;

namespace OptEq.Kernels;

/// <summary>
/// GEMM and its fused prox epilogue. The native backend runs the packed sgemm (Families/Gemm/Native) for float32 and a
/// blocked loop otherwise; ILGPU runs one tiled kernel with a store policy (plain, or bias + σ + σ′).
/// </summary>
public static class GemmExtensions
{
    /// <summary>
    /// C ← α·op(A)·op(B) + β·C. Operands are matrices (rank 2) or strided batches (rank 3, [batch, rows, cols]);
    /// with a batched C, a rank-2 A or B is shared by every batch. When β is zero, C is not read (NaN in C does not leak).
    /// </summary>
    public static void Gemm<T>(this Device device, MatrixOp opA, MatrixOp opB, T alpha, Tensor<T> a, Tensor<T> b, T beta, Tensor<T> c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        device.CheckSameDevice("gemm", a, b, c);
        if (c.Rank is not (2 or 3)) throw new ShapeException($"gemm: C must have rank 2 or 3, got shape {ShapeUtil.Format(c.Shape)}");
        int batch = c.Rank == 3 ? c.Shape[0] : 1;
        var (ar, ac, la) = Operand("A", a, batch, c.Rank);
        var (br, bc, lb) = Operand("B", b, batch, c.Rank);
        var (m, n, lc) = Operand("C", c, batch, c.Rank);
        int am = opA == MatrixOp.None ? ar : ac, ak = opA == MatrixOp.None ? ac : ar;
        int bk = opB == MatrixOp.None ? br : bc, bn = opB == MatrixOp.None ? bc : br;
        if (am != m || bn != n || ak != bk)
            throw new ShapeException(
                $"gemm: op(A) is {am}×{ak} (A {ShapeUtil.Format(a.Shape)}, {opA}), op(B) is {bk}×{bn} (B {ShapeUtil.Format(b.Shape)}, {opB}), " +
                $"C is {m}×{n}: need op(A) m×k, op(B) k×n, C m×n");
        if (m == 0 || n == 0 || batch == 0) return;
        device.Family<IGemmBackend>().Gemm(new GemmShape(opA, opB, m, n, ak, batch), alpha,
            new MatrixView<T>(a.Storage, la), new MatrixView<T>(b.Storage, lb), beta, new MatrixView<T>(c.Storage, lc));
    }

    /// <summary>
    /// value ← σ(op(A)·op(B) + addend) and, where given, derivative ← σ′(op(A)·op(B) + addend): a GEMM whose epilogue
    /// adds the bias (addend [n], one row broadcast) or the injection (addend [m, n]), applies the proximal activation
    /// and keeps σ′ for the backward pass, while each tile of the product is still in cache. value is written without
    /// being read, so it must not overlap A, B or the addend.
    /// </summary>
    public static void GemmProx<T>(this Device device, Activation activation, MatrixOp opA, MatrixOp opB, Tensor<T> a, Tensor<T> b, Tensor<T>? addend,
        Tensor<T> value, Tensor<T>? derivative = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(activation);
        device.CheckSameDevice("gemm-prox", a, b, value, addend ?? value, derivative ?? value);
        if (value.Rank != 2) throw new ShapeException($"gemm-prox: value must be a matrix [m, n], got {ShapeUtil.Format(value.Shape)}");
        var (ar, ac, la) = Operand("A", a, 1, 2);
        var (br, bc, lb) = Operand("B", b, 1, 2);
        var (m, n, lval) = Operand("value", value, 1, 2);
        int am = opA == MatrixOp.None ? ar : ac, ak = opA == MatrixOp.None ? ac : ar;
        int bk = opB == MatrixOp.None ? br : bc, bn = opB == MatrixOp.None ? bc : br;
        if (am != m || bn != n || ak != bk)
            throw new ShapeException(
                $"gemm-prox: op(A) is {am}×{ak} (A {ShapeUtil.Format(a.Shape)}, {opA}), op(B) is {bk}×{bn} (B {ShapeUtil.Format(b.Shape)}, {opB}), " +
                $"value is {m}×{n}: need op(A) m×k, op(B) k×n, value m×n");
        MatrixView<T> add = default;
        if (addend is not null)
        {
            if (addend.Rank == 1 && addend.Length == n && addend.IsContiguous) add = MatrixView<T>.Vector(addend);
            else if (addend.Rank == 2 && addend.Shape[0] == m && addend.Shape[1] == n && (n <= 1 || addend.Strides[1] == 1)) add = MatrixView<T>.Of(addend);
            else throw new ShapeException($"gemm-prox: the addend must be a bias [{n}] or a matrix [{m}, {n}] with unit column stride, got {ShapeUtil.Format(addend.Shape)}");
        }
        if (derivative is not null) Checks.SameMatrixShape("gemm-prox (derivative)", value, derivative);
        Checks.NoOverlap("gemm-prox", "A", a, value);
        Checks.NoOverlap("gemm-prox", "B", b, value);
        if (addend is not null) Checks.NoOverlap("gemm-prox", "the addend", addend, value);
        if (m == 0 || n == 0) return;
        var launch = new GemmProxLaunch<T>(device.Family<IGemmBackend>(), new GemmShape(opA, opB, m, n, ak, 1), new MatrixView<T>(a.Storage, la),
            new MatrixView<T>(b.Storage, lb), add, new MatrixView<T>(value.Storage, lval), MatrixView<T>.OfOptional(derivative));
        activation.Accept<T, GemmProxLaunch<T>>(ref launch);
    }

    /// <summary>A GEMM operand's sizes and layout (row stride = leading dimension; batch stride 0 for a shared rank-2 operand).</summary>
    private static (int Rows, int Cols, MatrixLayout Layout) Operand<T>(string name, Tensor<T> t, int batch, int cRank) where T : unmanaged
    {
        if (t.Rank == 2 || (t.Rank == 3 && cRank == 3))
        {
            if (t.Rank == 3 && t.Shape[0] != batch)
                throw new ShapeException($"gemm: {name} has batch {t.Shape[0]}, C has batch {batch}");
            int rows = t.Shape[^2], cols = t.Shape[^1];
            if (cols > 1 && t.Strides[^1] != 1)
                throw new ShapeException($"gemm: {name} of shape {ShapeUtil.Format(t.Shape)} needs unit stride in its last dimension (use MatrixOp.Transpose instead of a transposed view)");
            long ld = rows > 1 ? t.Strides[^2] : Math.Max(1, cols);
            if (ld < cols) throw new ShapeException($"gemm: {name} has row stride {ld} < its {cols} columns");
            long batchStride = t.Rank == 3 ? t.Strides[0] : 0;
            return (rows, cols, new MatrixLayout(t.Offset, ld, batchStride));
        }
        throw new ShapeException($"gemm: {name} must have rank 2{(cRank == 3 ? " or 3" : "")}, got shape {ShapeUtil.Format(t.Shape)}");
    }

    /// <summary>Turns the activation descriptor into its struct and calls the backend's generic fused kernel.</summary>
    private readonly struct GemmProxLaunch<T>(IGemmBackend backend, GemmShape shape, MatrixView<T> a, MatrixView<T> b, MatrixView<T> addend,
        MatrixView<T> value, MatrixView<T> derivative) : IActivationConsumer<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Consume<TAct>(TAct activation) where TAct : struct, IProxActivation<T>
            => backend.GemmProx(activation, shape, a, b, addend, value, derivative);
    }
}

/// <summary>The sizes of a GEMM: op(A) is M×K, op(B) K×N, C M×N, <see cref="Batch"/> of them.</summary>
public readonly record struct GemmShape(MatrixOp OpA, MatrixOp OpB, int M, int N, int K, int Batch);

/// <summary>What a backend implements for the GEMM family. Shapes are checked and non-empty.</summary>
internal interface IGemmBackend
{
    void Gemm<T>(GemmShape shape, T alpha, MatrixView<T> a, MatrixView<T> b, T beta, MatrixView<T> c) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// The fused GEMM + addend + prox (batch 1, α = 1, β = 0). An addend with row stride 0 is a bias row; an absent
    /// addend or derivative is left out.
    /// </summary>
    void GemmProx<T, TAct>(TAct activation, GemmShape shape, MatrixView<T> a, MatrixView<T> b, MatrixView<T> addend, MatrixView<T> value, MatrixView<T> derivative)
        where T : unmanaged, IFloatingPointIeee754<T> where TAct : struct, IProxActivation<T>;
}

/// <summary>The unfused composition of GEMM-prox: GEMM, then the addend, then the prox in place (what tests compare the fused kernels with).</summary>
internal static class GemmProxComposition
{
    public static void Run<T, TAct>(Device device, TAct activation, GemmShape shape, MatrixView<T> a, MatrixView<T> b, MatrixView<T> addend,
        MatrixView<T> value, MatrixView<T> derivative) where T : unmanaged, IFloatingPointIeee754<T> where TAct : struct, IProxActivation<T>
    {
        int m = shape.M, n = shape.N;
        device.Family<IGemmBackend>().Gemm(shape, T.One, a, b, T.Zero, value);
        if (!addend.IsAbsent)
        {
            var elementwise = device.Family<IElementwiseBackend>();
            if (addend.RowStride == 0) elementwise.AddBias(m, n, value, addend, value);
            else elementwise.Axpby(m, n, T.One, value, T.One, addend, value);
        }
        device.Family<IProxBackend>().Prox(activation, m, n, value, value, derivative, default);
    }
}
