using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using OptEq.Kernels.Ilgpu.Kernels;

namespace OptEq.Kernels.Ilgpu;

/// <summary>The loss family on an ILGPU accelerator: one group per row (<see cref="SoftmaxCrossEntropyKernel"/>).</summary>
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
}
