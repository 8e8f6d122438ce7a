using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using OptEq.Kernels.Ilgpu.Kernels;

namespace OptEq.Kernels.Ilgpu;

/// <summary>The loss family on an ILGPU accelerator: one group per row (<see cref="SoftmaxCrossEntropyKernel"/>, <see cref="MmcLossKernel"/>).</summary>
internal sealed class LossIlgpu(IlgpuDevice device) : ILossBackend
{
    public void SoftmaxCrossEntropy<T>(int rows, int cols, MatrixView<T> logits, MatrixView<int> labels, MatrixView<T> loss, MatrixView<T> gradient, T gradientScale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (rows == 0) return;
        var kernel = device.Kernels.Get("softmax-cross-entropy", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, long, ArrayView<int>, ArrayView<T>, ArrayView<T>, long, int, int, int, T>(SoftmaxCrossEntropyKernel.Run));
        // Without a gradient, the logits view stands in for it (never written: writeGradient is 0).
        var logitsView = IlgpuDevice.View(logits);
        kernel(device.RowLaunch<T>(rows, cols), logitsView, logits.RowStride, IlgpuDevice.View(labels), IlgpuDevice.View(loss),
            gradient.IsAbsent ? logitsView : IlgpuDevice.View(gradient), gradient.IsAbsent ? logits.RowStride : gradient.RowStride, rows, cols, gradient.IsAbsent ? 0 : 1, gradientScale);
    }

    public void MmcLoss<T>(int rows, int cols, int classes, MatrixView<T> features, MatrixView<int> labels, MatrixView<T> centres, MatrixView<T> loss, MatrixView<T> gradient, T gradientScale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (rows == 0) return;
        var kernel = device.Kernels.Get("mmc-loss", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, long, ArrayView<int>, ArrayView<T>, long, ArrayView<T>, ArrayView<T>, long, int, int, int, int, T>(MmcLossKernel.Run));
        // Without a gradient, the features view stands in for it (never written: writeGradient is 0).
        var featuresView = IlgpuDevice.View(features);
        kernel(device.RowLaunch<T>(rows, cols), featuresView, features.RowStride, IlgpuDevice.View(labels), IlgpuDevice.View(centres), centres.RowStride,
            IlgpuDevice.View(loss), gradient.IsAbsent ? featuresView : IlgpuDevice.View(gradient), gradient.IsAbsent ? features.RowStride : gradient.RowStride,
            rows, cols, classes, gradient.IsAbsent ? 0 : 1, gradientScale);
    }
}
