using ILGPU;
using ILGPU.Runtime;
using OptEq.Kernels.Ilgpu.Kernels;

namespace OptEq.Kernels.Ilgpu;

public sealed partial class IlgpuDevice
{
    protected internal override void ProxCore<T, TAct>(TAct activation, int rows, int cols, Storage<T> v, MatrixLayout lv, Storage<T> value, MatrixLayout lval,
        Storage<T>? derivative, MatrixLayout lder, Storage<T>? penalty, MatrixLayout lpen)
    {
        if (rows == 0 || cols == 0) return;
        var kernel = Kernels.Get("prox", typeof(T), typeof(TAct), acc =>
            acc.LoadStreamKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ProxLayout, TAct>(ProxKernel.Run<T, TAct>));
        var layout = new ProxLayout
        {
            Rows = rows, Cols = cols,
            LdV = lv.RowStride, LdValue = lval.RowStride, LdDerivative = lder.RowStride, LdPenalty = lpen.RowStride,
            WriteDerivative = derivative is null ? 0 : 1, WritePenalty = penalty is null ? 0 : 1,
        };
        // An absent output gets the value view as a stand-in that the kernel never writes.
        var valueView = View(value, lval.Offset);
        kernel(ElementwiseLaunch(rows, cols), View(v, lv.Offset), valueView,
            derivative is null ? valueView : View(derivative, lder.Offset), penalty is null ? valueView : View(penalty, lpen.Offset), layout, activation);
    }
}
