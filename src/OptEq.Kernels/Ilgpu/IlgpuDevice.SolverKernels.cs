using ILGPU;
using ILGPU.Runtime;
using OptEq.Kernels.Ilgpu.Kernels;

namespace OptEq.Kernels.Ilgpu;

public sealed partial class IlgpuDevice
{
    protected internal override void MapCore<T, TOp>(TOp op, int rows, int cols, Storage<T> result, MatrixLayout lr, Storage<T> a, MatrixLayout la,
        Storage<T> b, MatrixLayout lb, Storage<T> c, MatrixLayout lc, Storage<T> d, MatrixLayout ld)
    {
        if (rows == 0 || cols == 0) return;
        var kernel = Kernels.Get("map", typeof(T), typeof(TOp), acc =>
            acc.LoadStreamKernel<TOp, ArrayView<T>, long, ArrayView<T>, long, ArrayView<T>, long, ArrayView<T>, long, ArrayView<T>, long, int, int>(SolverKernels.Map<T, TOp>));
        kernel(ElementwiseLaunch(rows, cols), op, View(result, lr.Offset), lr.RowStride, View(a, la.Offset), la.RowStride, View(b, lb.Offset), lb.RowStride,
            View(c, lc.Offset), lc.RowStride, View(d, ld.Offset), ld.RowStride, rows, cols);
    }

    protected internal override void UpdateInPlaceCore<T, TOp>(TOp op, int rows, int cols, Storage<T> a, MatrixLayout la, Storage<T> b, MatrixLayout lb,
        Storage<T> c, MatrixLayout lc, Storage<T> d, MatrixLayout ld)
    {
        if (rows == 0 || cols == 0) return;
        var kernel = Kernels.Get("update-in-place", typeof(T), typeof(TOp), acc =>
            acc.LoadStreamKernel<TOp, ArrayView<T>, long, ArrayView<T>, long, ArrayView<T>, long, ArrayView<T>, long, int, int>(SolverKernels.UpdateInPlace<T, TOp>));
        kernel(ElementwiseLaunch(rows, cols), op, View(a, la.Offset), la.RowStride, View(b, lb.Offset), lb.RowStride,
            View(c, lc.Offset), lc.RowStride, View(d, ld.Offset), ld.RowStride, rows, cols);
    }

    protected override void RowAxpbyCore<T>(int rows, int cols, Storage<T> alpha, long alphaOffset, Storage<T> x, MatrixLayout lx,
        Storage<T> beta, long betaOffset, Storage<T> y, MatrixLayout ly, Storage<T> result, MatrixLayout lr)
    {
        if (rows == 0 || cols == 0) return;
        var kernel = Kernels.Get("row-axpby", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, ArrayView<T>, long, ArrayView<T>, ArrayView<T>, long, ArrayView<T>, long, int, int>(SolverKernels.RowAxpby));
        kernel(ElementwiseLaunch(rows, cols), View(alpha, alphaOffset), View(x, lx.Offset), lx.RowStride, View(beta, betaOffset), View(y, ly.Offset), ly.RowStride,
            View(result, lr.Offset), lr.RowStride, rows, cols);
    }

    protected override void SelectRowsCore<T, TCond>(int rows, int cols, Storage<TCond> condition, long conditionOffset, Storage<T> a, MatrixLayout la,
        Storage<T> b, MatrixLayout lb, Storage<T> result, MatrixLayout lr)
    {
        if (rows == 0 || cols == 0) return;
        var kernel = Kernels.Get("select-rows", typeof(T), typeof(TCond), acc =>
            acc.LoadStreamKernel<ArrayView<TCond>, ArrayView<T>, long, ArrayView<T>, long, ArrayView<T>, long, int, int>(SolverKernels.SelectRows<T, TCond>));
        kernel(ElementwiseLaunch(rows, cols), View(condition, conditionOffset), View(a, la.Offset), la.RowStride, View(b, lb.Offset), lb.RowStride,
            View(result, lr.Offset), lr.RowStride, rows, cols);
    }

    protected override void TrackResidualsCore<T>(int iteration, int batch, Storage<T> absSquared, long absOffset, Storage<T> normSquared, long normOffset,
        T absTolerance, T relTolerance, T divergenceFactor, Storage<T> state, long stateOffset,
        Storage<T>? traceAbs, long traceAbsOffset, Storage<T>? traceRel, long traceRelOffset)
    {
        if (batch == 0) return;
        var kernel = Kernels.Get("track-residuals", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, int, T, int, T, T, T, int>(SolverKernels.TrackResiduals));
        bool traces = traceAbs is not null && traceRel is not null;
        // Without traces the state view stands in for them; the kernel does not touch it as a trace.
        var ta = traces ? View(traceAbs!, traceAbsOffset) : View(state, stateOffset);
        var tr = traces ? View(traceRel!, traceRelOffset) : View(state, stateOffset);
        kernel(PerItemLaunch(batch), View(absSquared, absOffset), View(normSquared, normOffset), View(state, stateOffset), ta, tr,
            iteration, T.CreateTruncating(iteration + 1), batch, absTolerance, relTolerance, divergenceFactor, traces ? 1 : 0);
    }

    protected override void AndersonSystemCore<T>(int batch, int m, int used, T ridge, Storage<T> gram, long gramOffset,
        Storage<T> system, long systemOffset, Storage<T> rhs, long rhsOffset)
    {
        if (batch == 0) return;
        var kernel = Kernels.Get("anderson-system", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, int, int, int, T, T>(SolverKernels.AndersonSystem));
        kernel(PerItemLaunch(batch), View(gram, gramOffset), View(system, systemOffset), View(rhs, rhsOffset), batch, m, used, T.CreateTruncating(used), ridge);
    }
}
