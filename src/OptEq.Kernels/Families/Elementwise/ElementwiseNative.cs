using System.Numerics;

namespace OptEq.Kernels.Native;

/// <summary>
/// The elementwise family on the CPU: one struct body per kernel, rows split across the worker team; the arithmetic rows run
/// on <see cref="VectorDriver"/> (every width), the generic scalar maps (<see cref="IScalarMap{T}"/>) element by element.
/// </summary>
internal sealed unsafe class ElementwiseNative : IElementwiseBackend
{
    public void Copy<T>(int rows, int cols, MatrixView<T> src, MatrixView<T> dst) where T : unmanaged =>
        NativeParallel.For(rows, cols, new CopyRows<T> { Src = src.Rows(), Dst = dst.Rows(), Cols = cols });

    public void Fill<T>(int rows, int cols, MatrixView<T> x, T value) where T : unmanaged =>
        NativeParallel.For(rows, cols, new FillRows<T> { X = x.Rows(), Cols = cols, Value = value });

    public void AddBias<T>(int rows, int cols, MatrixView<T> x, MatrixView<T> bias, MatrixView<T> y) where T : unmanaged, IFloatingPointIeee754<T> =>
        NativeParallel.For(rows, cols, new AddBiasRows<T> { X = x.Rows(), Bias = bias.Ptr(), Y = y.Rows(), Cols = cols });

    public void Axpby<T>(int rows, int cols, T alpha, MatrixView<T> x, T beta, MatrixView<T> y, MatrixView<T> result) where T : unmanaged, IFloatingPointIeee754<T> =>
        NativeParallel.For(rows, cols, new AxpbyRows<T> { Alpha = alpha, X = x.Rows(), Beta = beta, Y = y.Rows(), Result = result.Rows(), Cols = cols });

    public void Map<T, TOp>(TOp op, int rows, int cols, MatrixView<T> result, Quad<T> inputs) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IScalarMap<T> =>
        NativeParallel.For(rows, cols * 4L, new MapRows<T, TOp> { Op = op, Result = result.Rows(), A = inputs.A.Rows(), B = inputs.B.Rows(), C = inputs.C.Rows(), D = inputs.D.Rows(), Cols = cols });

    public void UpdateInPlace<T, TOp>(TOp op, int rows, int cols, Quad<T> operands) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IScalarUpdate<T> =>
        NativeParallel.For(rows, cols * 8L, new UpdateRows<T, TOp> { Op = op, A = operands.A.Rows(), B = operands.B.Rows(), C = operands.C.Rows(), D = operands.D.Rows(), Cols = cols });

    public void RowAxpby<T>(int rows, int cols, MatrixView<T> alpha, MatrixView<T> x, MatrixView<T> beta, MatrixView<T> y, MatrixView<T> result) where T : unmanaged, IFloatingPointIeee754<T> =>
        NativeParallel.For(rows, cols, new RowAxpbyRows<T> { Alpha = alpha.Ptr(), Beta = beta.Ptr(), X = x.Rows(), Y = y.Rows(), Result = result.Rows(), Cols = cols });

    public void SelectRows<T, TCond>(int rows, int cols, MatrixView<TCond> condition, MatrixView<T> a, MatrixView<T> b, MatrixView<T> result)
        where T : unmanaged, IFloatingPointIeee754<T> where TCond : unmanaged, INumberBase<TCond> =>
        NativeParallel.For(rows, cols, new SelectRowsBody<T, TCond> { Condition = condition.Ptr(), A = a.Rows(), B = b.Rows(), Result = result.Rows(), Cols = cols });

    private struct CopyRows<T> : IRangeBody where T : unmanaged
    {
        public RowPointer<T> Src, Dst;
        public int Cols;

        public readonly void Run(int r0, int r1)
        {
            for (int r = r0; r < r1; r++) new ReadOnlySpan<T>(Src[r], Cols).CopyTo(new Span<T>(Dst[r], Cols));
        }
    }

    private struct FillRows<T> : IRangeBody where T : unmanaged
    {
        public RowPointer<T> X;
        public int Cols;
        public T Value;

        public readonly void Run(int r0, int r1)
        {
            for (int r = r0; r < r1; r++) new Span<T>(X[r], Cols).Fill(Value);
        }
    }

    private struct AddBiasRows<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public RowPointer<T> X, Y;
        public T* Bias;
        public int Cols;

        public readonly void Run(int r0, int r1)
        {
            for (int r = r0; r < r1; r++) VectorDriver.Map(new AddOp<T>(), X[r], Bias, Y[r], Cols);
        }
    }

    private struct AxpbyRows<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Alpha, Beta;
        public RowPointer<T> X, Y, Result;
        public int Cols;

        public readonly void Run(int r0, int r1)
        {
            bool readY = Beta != T.Zero; // β = 0 never reads y (it may be uninitialised)
            for (int r = r0; r < r1; r++)
            {
                if (readY) VectorDriver.Map(new AxpbyOp<T>(Alpha, Beta), X[r], Y[r], Result[r], Cols);
                else VectorDriver.Map(new ScaleOp<T>(Alpha), X[r], Result[r], Cols);
            }
        }
    }

    private struct MapRows<T, TOp> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IScalarMap<T>
    {
        public TOp Op;
        public RowPointer<T> Result, A, B, C, D;
        public int Cols;

        public readonly void Run(int r0, int r1)
        {
            for (int r = r0; r < r1; r++)
            {
                T* ra = A[r], rb = B[r], rc = C[r], rd = D[r], rr = Result[r];
                for (int j = 0; j < Cols; j++) rr[j] = Op.Apply(ra[j], rb[j], rc[j], rd[j]);
            }
        }
    }

    private struct UpdateRows<T, TOp> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IScalarUpdate<T>
    {
        public TOp Op;
        public RowPointer<T> A, B, C, D;
        public int Cols;

        public readonly void Run(int r0, int r1)
        {
            for (int r = r0; r < r1; r++)
            {
                T* ra = A[r], rb = B[r], rc = C[r], rd = D[r];
                for (int j = 0; j < Cols; j++)
                {
                    var t = Op.Apply(ra[j], rb[j], rc[j], rd[j]);
                    ra[j] = t.A; rb[j] = t.B; rc[j] = t.C;
                }
            }
        }
    }

    private struct RowAxpbyRows<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* Alpha, Beta;
        public RowPointer<T> X, Y, Result;
        public int Cols;

        public readonly void Run(int r0, int r1)
        {
            for (int r = r0; r < r1; r++)
            {
                T al = Alpha[r], be = Beta[r];
                if (be == T.Zero) VectorDriver.Map(new ScaleOp<T>(al), X[r], Result[r], Cols);
                else VectorDriver.Map(new AxpbyOp<T>(al, be), X[r], Y[r], Result[r], Cols);
            }
        }
    }

    private struct SelectRowsBody<T, TCond> : IRangeBody where T : unmanaged where TCond : unmanaged, INumberBase<TCond>
    {
        public TCond* Condition;
        public RowPointer<T> A, B, Result;
        public int Cols;

        public readonly void Run(int r0, int r1)
        {
            for (int r = r0; r < r1; r++)
            {
                T* src = Condition[r] != TCond.Zero ? A[r] : B[r];
                T* dst = Result[r];
                if (src != dst) new ReadOnlySpan<T>(src, Cols).CopyTo(new Span<T>(dst, Cols));
            }
        }
    }
}
