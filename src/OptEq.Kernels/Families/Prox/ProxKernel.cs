using System.Numerics;
using ILGPU;
using OptEq.Kernels.Activations;

namespace OptEq.Kernels.Ilgpu.Kernels;

/// <summary>Row strides of the prox operands, and which optional outputs to write (ILGPU kernel parameters cannot be bool).</summary>
public struct ProxLayout
{
    public int Rows, Cols;
    public long LdV, LdValue, LdDerivative, LdPenalty;
    public int WriteDerivative, WritePenalty;
}

/// <summary>
/// value ← σ(v), derivative ← σ′(v), penalty ← f(σ(v)) in one pass (reference: <see cref="Reference.ReferenceKernels.Prox{TAct}"/>).
/// The activation struct is passed by value, so each activation gets its own specialised kernel.
/// </summary>
public static class ProxKernel
{
    public static void Run<T, TAct>(ArrayView<T> v, ArrayView<T> value, ArrayView<T> derivative, ArrayView<T> penalty, ProxLayout l, TAct act)
        where T : unmanaged, IFloatingPointIeee754<T> where TAct : struct, IProxActivation<T>
    {
        for (int r = GridStride.FirstRow; r < l.Rows; r += GridStride.RowStep)
            for (int c = GridStride.FirstCol; c < l.Cols; c += GridStride.ColStep)
            {
                T x = v[r * l.LdV + c]; // read first: value may be v itself
                T z = act.Value(x);
                if (l.WriteDerivative != 0) derivative[r * l.LdDerivative + c] = act.Derivative(x);
                if (l.WritePenalty != 0) penalty[r * l.LdPenalty + c] = act.Penalty(z);
                value[r * l.LdValue + c] = z;
            }
    }
}
