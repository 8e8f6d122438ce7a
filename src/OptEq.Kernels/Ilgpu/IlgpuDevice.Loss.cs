using ILGPU;
using ILGPU.Runtime;
using OptEq.Kernels.Ilgpu.Kernels;

namespace OptEq.Kernels.Ilgpu;

public sealed partial class IlgpuDevice
{
    protected override void SoftmaxCrossEntropyCore<T>(int rows, int cols, Storage<T> logits, MatrixLayout ll, Storage<int> labels, long labelsOffset,
        Storage<T> loss, long lossOffset, Storage<T>? gradient, MatrixLayout lg, T gradientScale)
    {
        if (rows == 0) return;
        var kernel = Kernels.Get("softmax-cross-entropy", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, long, ArrayView<int>, ArrayView<T>, ArrayView<T>, long, int, int, int, T>(SoftmaxCrossEntropyKernel.Run));
        // Without a gradient, the logits view stands in for it (never written: writeGradient is 0).
        var logitsView = View(logits, ll.Offset);
        kernel(RowLaunch<T>(rows, cols), logitsView, ll.RowStride, View(labels, labelsOffset), View(loss, lossOffset),
            gradient is null ? logitsView : View(gradient, lg.Offset), lg.RowStride, rows, cols, gradient is null ? 0 : 1, gradientScale);
    }
}
