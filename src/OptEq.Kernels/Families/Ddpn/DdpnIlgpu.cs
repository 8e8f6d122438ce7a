using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using OptEq.Kernels.Ilgpu.Kernels;

namespace OptEq.Kernels.Ilgpu;

/// <summary>The DDPNOpt family on an ILGPU accelerator: one group per row (<see cref="DdpnKernels"/>).</summary>
internal sealed class DdpnIlgpu(IlgpuDevice device) : IDdpnBackend
{
    public void RankOneCorrection<T>(int rows, int cols, MatrixView<T> a, MatrixView<T> h, MatrixView<T> r, MatrixView<T> d, T epsilon, T bound, MatrixView<T> result)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (rows == 0 || cols == 0) return;
        var kernel = device.Kernels.Get("ddpn-rank-one-correction", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, long, ArrayView<T>, long, ArrayView<T>, long, ArrayView<T>, long, ArrayView<T>, long, DdpnKernels.CorrectionScalars<T>, int, int, int>(
                DdpnKernels.RankOneCorrection));
        // Absent operands: h stands in for them (never read: their flag bits are clear).
        var hView = IlgpuDevice.View(h);
        kernel(device.RowLaunch<T>(rows, cols),
            a.IsAbsent ? hView : IlgpuDevice.View(a), a.IsAbsent ? h.RowStride : a.RowStride, hView, h.RowStride, IlgpuDevice.View(r), r.RowStride,
            d.IsAbsent ? hView : IlgpuDevice.View(d), d.IsAbsent ? h.RowStride : d.RowStride, IlgpuDevice.View(result), result.RowStride,
            new DdpnKernels.CorrectionScalars<T> { Epsilon = epsilon, Bound = bound }, rows, cols, (a.IsAbsent ? 0 : 1) | (d.IsAbsent ? 0 : 2));
    }

    public void ValueFactor<T>(int rows, int cols, MatrixView<T> h, MatrixView<T> p, MatrixView<T> result) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (rows == 0) return;
        var kernel = device.Kernels.Get("ddpn-value-factor", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, long, ArrayView<T>, long, ArrayView<T>, int, int>(DdpnKernels.ValueFactor));
        kernel(device.RowLaunch<T>(rows, cols), IlgpuDevice.View(h), h.RowStride, IlgpuDevice.View(p), p.RowStride, IlgpuDevice.View(result), rows, cols);
    }

    public void KroneckerValueFactor<T>(int rows, int hcols, MatrixView<T> h, MatrixView<T> hg, int xcols, MatrixView<T> x, MatrixView<T> xa, T scale, MatrixView<T> result)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (rows == 0) return;
        var kernel = device.Kernels.Get("ddpn-kronecker-value-factor", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, long, ArrayView<T>, long, int, ArrayView<T>, long, ArrayView<T>, long, int, T, ArrayView<T>, int>(DdpnKernels.KroneckerValueFactor));
        kernel(device.RowLaunch<T>(rows, Math.Max(hcols, xcols)), IlgpuDevice.View(h), h.RowStride, IlgpuDevice.View(hg), hg.RowStride, hcols,
            IlgpuDevice.View(x), x.RowStride, IlgpuDevice.View(xa), xa.RowStride, xcols, scale, IlgpuDevice.View(result), rows);
    }
}
