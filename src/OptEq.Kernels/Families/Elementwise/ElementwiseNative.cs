using System.Numerics;
using System.Runtime.Intrinsics;

namespace OptEq.Kernels.Native;

/// <summary>The elementwise family on the CPU: one struct body per kernel, rows split across the worker team.</summary>
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
            for (int r = r0; r < r1; r++)
            {
                T* xr = X[r], yr = Y[r];
                int j = 0;
                for (; j <= Cols - Vector512<T>.Count; j += Vector512<T>.Count)
                    Vector512.Store(Vector512.Load(xr + j) + Vector512.Load(Bias + j), yr + j);
                for (; j < Cols; j++) yr[j] = xr[j] + Bias[j];
            }
        }
    }

    private struct AxpbyRows<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Alpha, Beta;
        public RowPointer<T> X, Y, Result;
        public int Cols;

        public readonly void Run(int r0, int r1)
        {
            var va = Vector512.Create(Alpha);
            var vb = Vector512.Create(Beta);
            bool readY = Beta != T.Zero; // β = 0 never reads y (it may be uninitialised)
            for (int r = r0; r < r1; r++)
            {
                T* xr = X[r], yr = Y[r], rr = Result[r];
                int j = 0;
                if (readY)
                {
                    for (; j <= Cols - Vector512<T>.Count; j += Vector512<T>.Count)
                        Vector512.Store(va * Vector512.Load(xr + j) + vb * Vector512.Load(yr + j), rr + j);
                    for (; j < Cols; j++) rr[j] = Alpha * xr[j] + Beta * yr[j];
                }
                else
                {
                    for (; j <= Cols - Vector512<T>.Count; j += Vector512<T>.Count)
                        Vector512.Store(va * Vector512.Load(xr + j), rr + j);
                    for (; j < Cols; j++) rr[j] = Alpha * xr[j];
                }
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
                T* xr = X[r], yr = Y[r], rr = Result[r];
                if (be == T.Zero) for (int j = 0; j < Cols; j++) rr[j] = al * xr[j];
                else for (int j = 0; j < Cols; j++) rr[j] = al * xr[j] + be * yr[j];
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
