using System.Numerics;
using OptEq.Kernels.Activations;

namespace OptEq.Kernels;

/// <summary>
/// Fused kernels: the work of several kernels in one pass over memory. Each has an unfused composition here (what a
/// backend without a fused version runs, and what tests compare against) and a reference in ReferenceKernels.
/// </summary>
public abstract partial class Device
{
    /// <summary>
    /// value ← σ(op(A)·op(B) + addend) and, where given, derivative ← σ′(op(A)·op(B) + addend): a GEMM whose epilogue
    /// adds the bias (addend [n], one row broadcast) or the injection (addend [m, n]), applies the proximal activation
    /// and keeps σ′ for the backward pass, while each tile of the product is still in cache. value is written without
    /// being read, so it must not overlap A, B or the addend.
    /// </summary>
    public void GemmProx<T>(Activation activation, MatrixOp opA, MatrixOp opB, Tensor<T> a, Tensor<T> b, Tensor<T>? addend,
        Tensor<T> value, Tensor<T>? derivative = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(activation);
        CheckSameDevice("gemm-prox", a, b, value, addend ?? value, derivative ?? value);
        if (value.Rank != 2) throw new ShapeException($"gemm-prox: value must be a matrix [m, n], got {ShapeUtil.Format(value.Shape)}");
        var (ar, ac, la) = GemmOperand("A", a, 1, 2);
        var (br, bc, lb) = GemmOperand("B", b, 1, 2);
        var (m, n, lval) = GemmOperand("value", value, 1, 2);
        int am = opA == MatrixOp.None ? ar : ac, ak = opA == MatrixOp.None ? ac : ar;
        int bk = opB == MatrixOp.None ? br : bc, bn = opB == MatrixOp.None ? bc : br;
        if (am != m || bn != n || ak != bk)
            throw new ShapeException(
                $"gemm-prox: op(A) is {am}×{ak} (A {ShapeUtil.Format(a.Shape)}, {opA}), op(B) is {bk}×{bn} (B {ShapeUtil.Format(b.Shape)}, {opB}), " +
                $"value is {m}×{n}: need op(A) m×k, op(B) k×n, value m×n");
        MatrixLayout ladd = default;
        if (addend is not null)
        {
            if (addend.Rank == 1 && addend.Length == n && addend.IsContiguous) ladd = new MatrixLayout(addend.Offset, 0, 0);
            else if (addend.Rank == 2 && addend.Shape[0] == m && addend.Shape[1] == n && (n <= 1 || addend.Strides[1] == 1)) ladd = Layout(addend);
            else throw new ShapeException($"gemm-prox: the addend must be a bias [{n}] or a matrix [{m}, {n}] with unit column stride, got {ShapeUtil.Format(addend.Shape)}");
        }
        MatrixLayout lder = default;
        if (derivative is not null)
        {
            SameMatrixShape("gemm-prox (derivative)", value, derivative);
            lder = Layout(derivative);
        }
        CheckNoOverlap("gemm-prox", "A", a, value);
        CheckNoOverlap("gemm-prox", "B", b, value);
        if (addend is not null) CheckNoOverlap("gemm-prox", "the addend", addend, value);
        if (m == 0 || n == 0) return;
        var launch = new GemmProxLaunch<T>(this, opA, opB, m, n, ak, a.Storage, la, b.Storage, lb, addend?.Storage, ladd, value.Storage, lval, derivative?.Storage, lder);
        activation.Accept<T, GemmProxLaunch<T>>(ref launch);
    }

    /// <summary>
    /// The unfused composition: GEMM, then the addend, then the prox in place. Backends override it with a fused kernel.
    /// An addend layout with row stride 0 is a bias row.
    /// </summary>
    protected internal virtual void GemmProxCore<T, TAct>(TAct activation, MatrixOp opA, MatrixOp opB, int m, int n, int k,
        Storage<T> a, MatrixLayout la, Storage<T> b, MatrixLayout lb, Storage<T>? addend, MatrixLayout ladd,
        Storage<T> value, MatrixLayout lval, Storage<T>? derivative, MatrixLayout lder)
        where T : unmanaged, IFloatingPointIeee754<T> where TAct : struct, IProxActivation<T>
    {
        GemmCore(opA, opB, m, n, k, 1, T.One, a, la, b, lb, T.Zero, value, lval);
        if (addend is not null)
        {
            if (ladd.RowStride == 0) AddBiasCore(m, n, value, lval, addend, ladd.Offset, value, lval);
            else AxpbyCore(m, n, T.One, value, lval, T.One, addend, ladd, value, lval);
        }
        ProxCore(activation, m, n, value, lval, value, lval, derivative, lder, null, default);
    }

    private static void CheckNoOverlap<T>(string op, string name, Tensor<T> input, Tensor<T> output) where T : unmanaged
    {
        if (ReferenceEquals(input.Storage, output.Storage) && Overlaps(input, output))
            throw new ArgumentException($"{op}: the output overlaps {name}, which it must not (the output is written before {name} is fully read)");
    }

    private readonly struct GemmProxLaunch<T>(Device device, MatrixOp opA, MatrixOp opB, int m, int n, int k,
        Storage<T> a, MatrixLayout la, Storage<T> b, MatrixLayout lb, Storage<T>? addend, MatrixLayout ladd,
        Storage<T> value, MatrixLayout lval, Storage<T>? derivative, MatrixLayout lder)
        : IActivationConsumer<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Consume<TAct>(TAct activation) where TAct : struct, IProxActivation<T>
            => device.GemmProxCore(activation, opA, opB, m, n, k, a, la, b, lb, addend, ladd, value, lval, derivative, lder);
    }
}
