using OptEq.Kernels.Activations;

namespace OptEq.Kernels.Native;

public sealed unsafe partial class NativeCpuDevice
{
    protected internal override void ProxCore<T, TAct>(TAct activation, int rows, int cols, Storage<T> v, MatrixLayout lv, Storage<T> value, MatrixLayout lval,
        Storage<T>? derivative, MatrixLayout lder, Storage<T>? penalty, MatrixLayout lpen)
    {
        NativeParallel.ForRanges(rows, cols * 8L, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                T* vr = Row(v, lv, r), zr = Row(value, lval, r);
                T* dr = derivative is null ? null : Row(derivative, lder, r);
                T* pr = penalty is null ? null : Row(penalty, lpen, r);
                for (int j = 0; j < cols; j++)
                {
                    T x = vr[j];
                    T z = activation.Value(x);
                    if (dr != null) dr[j] = activation.Derivative(x);
                    if (pr != null) pr[j] = activation.Penalty(z);
                    zr[j] = z; // written last: value may alias v
                }
            }
        });
    }
}
