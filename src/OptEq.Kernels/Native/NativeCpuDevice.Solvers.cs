using System.Numerics;

namespace OptEq.Kernels.Native;

public sealed unsafe partial class NativeCpuDevice
{
    protected internal override void MapCore<T, TOp>(TOp op, int rows, int cols, Storage<T> result, MatrixLayout lr, Storage<T> a, MatrixLayout la,
        Storage<T> b, MatrixLayout lb, Storage<T> c, MatrixLayout lc, Storage<T> d, MatrixLayout ld) =>
        NativeParallel.For(rows, cols * 4L, new MapRows<T, TOp> { Op = op, Result = Rows(result, lr), A = Rows(a, la), B = Rows(b, lb), C = Rows(c, lc), D = Rows(d, ld), Cols = cols });

    protected internal override void UpdateInPlaceCore<T, TOp>(TOp op, int rows, int cols, Storage<T> a, MatrixLayout la, Storage<T> b, MatrixLayout lb,
        Storage<T> c, MatrixLayout lc, Storage<T> d, MatrixLayout ld) =>
        NativeParallel.For(rows, cols * 8L, new UpdateRows<T, TOp> { Op = op, A = Rows(a, la), B = Rows(b, lb), C = Rows(c, lc), D = Rows(d, ld), Cols = cols });

    protected override void RowAxpbyCore<T>(int rows, int cols, Storage<T> alpha, long alphaOffset, Storage<T> x, MatrixLayout lx,
        Storage<T> beta, long betaOffset, Storage<T> y, MatrixLayout ly, Storage<T> result, MatrixLayout lr) =>
        NativeParallel.For(rows, cols, new RowAxpbyRows<T>
        {
            Alpha = Ptr(alpha, alphaOffset), Beta = Ptr(beta, betaOffset), X = Rows(x, lx), Y = Rows(y, ly), Result = Rows(result, lr), Cols = cols,
        });

    protected override void SelectRowsCore<T, TCond>(int rows, int cols, Storage<TCond> condition, long conditionOffset, Storage<T> a, MatrixLayout la,
        Storage<T> b, MatrixLayout lb, Storage<T> result, MatrixLayout lr) =>
        NativeParallel.For(rows, cols, new SelectRowsBody<T, TCond> { Condition = Ptr(condition, conditionOffset), A = Rows(a, la), B = Rows(b, lb), Result = Rows(result, lr), Cols = cols });

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

    protected override void TrackResidualsCore<T>(int iteration, int batch, Storage<T> absSquared, long absOffset, Storage<T> normSquared, long normOffset,
        T absTolerance, T relTolerance, T divergenceFactor, Storage<T> state, long stateOffset,
        Storage<T>? traceAbs, long traceAbsOffset, Storage<T>? traceRel, long traceRelOffset)
    {
        T* s = Ptr(state, stateOffset);
        T evaluations = T.CreateTruncating(iteration + 1);
        for (int i = 0; i < batch; i++)
        {
            var (abs, rel) = SolverBookkeeping.Track(evaluations, Ptr(absSquared, absOffset)[i], Ptr(normSquared, normOffset)[i], absTolerance, relTolerance, divergenceFactor,
                ref s[SampleState.Status * batch + i], ref s[SampleState.BestAbs * batch + i], ref s[SampleState.BestRel * batch + i],
                ref s[SampleState.Iterations * batch + i], ref s[SampleState.Improved * batch + i], ref s[SampleState.Active * batch + i],
                ref s[SampleState.LastAbs * batch + i], ref s[SampleState.LastRel * batch + i]);
            if (traceAbs is not null) Ptr(traceAbs, traceAbsOffset)[(long)iteration * batch + i] = abs;
            if (traceRel is not null) Ptr(traceRel, traceRelOffset)[(long)iteration * batch + i] = rel;
        }
    }

    protected override void AndersonSystemCore<T>(int batch, int m, int used, T ridge, Storage<T> gram, long gramOffset,
        Storage<T> system, long systemOffset, Storage<T> rhs, long rhsOffset) =>
        // Work per system counted as 16 per entry: each entry is a call into the shared bookkeeping, not one flop.
        NativeParallel.For(batch, (long)(m + 1) * (m + 1) * 16, new AndersonSystems<T>
        {
            M = m, Used = used, Ridge = ridge, Gram = Ptr(gram, gramOffset), System = Ptr(system, systemOffset), Rhs = Ptr(rhs, rhsOffset),
        });

    private struct AndersonSystems<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public int M, Used;
        public T Ridge;
        public T* Gram, System, Rhs;

        public readonly void Run(int s0, int s1)
        {
            int m = M, n = m + 1;
            for (int s = s0; s < s1; s++)
            {
                T* g = Gram + (long)s * m * m, a = System + (long)s * n * n, b = Rhs + (long)s * n;
                T trace = T.Zero;
                for (int i = 0; i < Used; i++) trace += g[i * m + i];
                T meanDiagonal = trace / T.CreateTruncating(Used);
                for (int r = 0; r < n; r++)
                {
                    for (int c = 0; c < n; c++)
                        a[r * n + c] = SolverBookkeeping.AndersonEntry(r, c, m, Used, Ridge, meanDiagonal, r > 0 && c > 0 ? g[(r - 1) * m + (c - 1)] : T.Zero);
                    b[r] = r == 0 ? T.One : T.Zero;
                }
            }
        }
    }
}
