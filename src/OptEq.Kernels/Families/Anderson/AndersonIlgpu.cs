using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using OptEq.Kernels.Ilgpu.Kernels;

namespace OptEq.Kernels.Ilgpu;

/// <summary>The Anderson family on an ILGPU accelerator (<see cref="AndersonKernels"/>).</summary>
internal sealed class AndersonIlgpu(IlgpuDevice device) : IAndersonBackend
{
    public void Update<T>(AndersonShape shape, MatrixView<T> z, MatrixView<T> fz, AndersonRing<T> ring, MatrixView<T> gram, MatrixView<T> absSquared, MatrixView<T> normSquared)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var kernel = device.Kernels.Get("anderson-update", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, long, ArrayView<T>, long, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, AndersonShape>(
                AndersonKernels.Update));
        kernel(device.RowLaunch<T>(shape.Batch, shape.Dimension), IlgpuDevice.View(z), z.RowStride, IlgpuDevice.View(fz), fz.RowStride, IlgpuDevice.View(ring.Iterates),
            IlgpuDevice.View(ring.Residuals), IlgpuDevice.View(gram), IlgpuDevice.View(absSquared), IlgpuDevice.View(normSquared), shape);
    }

    public void Mix<T>(AndersonShape shape, MatrixView<T> alpha, MatrixView<int> status, MatrixView<T> active, AndersonRing<T> ring, MatrixView<T> fz, T beta, MatrixView<T> z)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var kernel = device.Kernels.Get("anderson-mix", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, long, ArrayView<int>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, long, T, ArrayView<T>, long, AndersonShape>(
                AndersonKernels.Mix));
        kernel(device.ElementwiseLaunch(shape.Batch, shape.Dimension), IlgpuDevice.View(alpha), alpha.RowStride, IlgpuDevice.View(status), IlgpuDevice.View(active),
            IlgpuDevice.View(ring.Iterates), IlgpuDevice.View(ring.Residuals), IlgpuDevice.View(fz), fz.RowStride, beta, IlgpuDevice.View(z), z.RowStride, shape);
    }

    public void BorderedSystem<T>(AndersonShape shape, T ridge, MatrixView<T> gram, MatrixView<T> system, MatrixView<T> rhs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (shape.Batch == 0) return;
        var kernel = device.Kernels.Get("anderson-system", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, int, int, int, T, T>(AndersonKernels.BorderedSystem));
        kernel(device.PerItemLaunch(shape.Batch), IlgpuDevice.View(gram), IlgpuDevice.View(system), IlgpuDevice.View(rhs), shape.Batch, shape.Memory, shape.Used,
            T.CreateTruncating(shape.Used), ridge);
    }
}
