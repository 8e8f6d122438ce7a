using ILGPU;
using ILGPU.Runtime;
using OptEq.Kernels.Ilgpu.Kernels;

namespace OptEq.Kernels.Ilgpu;

public sealed partial class IlgpuDevice
{
    protected override void AndersonUpdateCore<T>(AndersonShape shape, Storage<T> z, MatrixLayout lz, Storage<T> fz, MatrixLayout lf,
        Storage<T> iterates, long iteratesOffset, Storage<T> residuals, long residualsOffset, Storage<T> gram, long gramOffset,
        Storage<T> absSquared, long absOffset, Storage<T> normSquared, long normOffset)
    {
        var kernel = Kernels.Get("anderson-update", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, long, ArrayView<T>, long, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, AndersonShape>(
                AndersonKernels.Update));
        kernel(RowLaunch<T>(shape.Batch, shape.Dimension), View(z, lz.Offset), lz.RowStride, View(fz, lf.Offset), lf.RowStride, View(iterates, iteratesOffset),
            View(residuals, residualsOffset), View(gram, gramOffset), View(absSquared, absOffset), View(normSquared, normOffset), shape);
    }

    protected override void AndersonMixCore<T>(AndersonShape shape, Storage<T> alpha, MatrixLayout lalpha, Storage<int> status, long statusOffset,
        Storage<T> active, long activeOffset, Storage<T> iterates, long iteratesOffset, Storage<T> residuals, long residualsOffset,
        Storage<T> fz, MatrixLayout lf, T beta, Storage<T> z, MatrixLayout lz)
    {
        var kernel = Kernels.Get("anderson-mix", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, long, ArrayView<int>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, long, T, ArrayView<T>, long, AndersonShape>(
                AndersonKernels.Mix));
        kernel(ElementwiseLaunch(shape.Batch, shape.Dimension), View(alpha, lalpha.Offset), lalpha.RowStride, View(status, statusOffset), View(active, activeOffset),
            View(iterates, iteratesOffset), View(residuals, residualsOffset), View(fz, lf.Offset), lf.RowStride, beta, View(z, lz.Offset), lz.RowStride, shape);
    }
}
