using System.Numerics;
using OptEq.Kernels.Activations;

namespace OptEq.Kernels.Native;

/// <summary>The prox family on the CPU: <see cref="ActivationRows"/> per row (vectorised for ReLU and the identity).</summary>
internal sealed unsafe class ProxNative : IProxBackend
{
    public void Prox<T, TAct>(TAct activation, int rows, int cols, MatrixView<T> v, MatrixView<T> value, MatrixView<T> derivative, MatrixView<T> penalty)
        where T : unmanaged, IFloatingPointIeee754<T> where TAct : struct, IProxActivation<T> =>
        NativeParallel.For(rows, cols * 8L, new ProxRows<T, TAct>
        {
            Activation = activation, V = v.Rows(), Value = value.Rows(), Derivative = derivative.Rows(), Penalty = penalty.Rows(), Cols = cols,
        });

    private struct ProxRows<T, TAct> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T> where TAct : struct, IProxActivation<T>
    {
        public TAct Activation;
        public RowPointer<T> V, Value, Derivative, Penalty;
        public int Cols;

        public readonly void Run(int r0, int r1)
        {
            for (int r = r0; r < r1; r++)
            {
                T* vr = V[r], zr = Value[r];
                T* dr = Derivative.IsNull ? null : Derivative[r];
                if (Penalty.IsNull)
                {
                    ActivationRows.Apply(Activation, vr, zr, dr, Cols);
                    continue;
                }
                T* pr = Penalty[r];
                for (int j = 0; j < Cols; j++)
                {
                    T x = vr[j];
                    T z = Activation.Value(x);
                    if (dr != null) dr[j] = Activation.Derivative(x);
                    pr[j] = Activation.Penalty(z);
                    zr[j] = z; // written last: value may alias v
                }
            }
        }
    }
}
