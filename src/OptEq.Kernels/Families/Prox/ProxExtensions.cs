using System.Numerics;
using OptEq.Kernels.Activations;

namespace OptEq.Kernels;

/// <summary>The proximal activations applied to a tensor: σ, σ′ and the penalty in one pass (the activation structs are in Activations/).</summary>
public static class ProxExtensions
{
    /// <summary>
    /// One pass over v: value ← σ(v), and where given, derivative ← σ′(v) and penalty ← f(σ(v)).
    /// Outputs have v's shape; value may be v itself.
    /// </summary>
    public static void Prox<T>(this Device device, Activation activation, Tensor<T> v, Tensor<T> value, Tensor<T>? derivative = null, Tensor<T>? penalty = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(activation);
        device.CheckSameDevice("prox", v, value, derivative ?? value, penalty ?? value);
        var (rows, cols) = Checks.SameMatrixShape("prox", v, value);
        if (derivative is not null) Checks.SameMatrixShape("prox (derivative)", v, derivative);
        if (penalty is not null) Checks.SameMatrixShape("prox (penalty)", v, penalty);
        var launch = new ProxLaunch<T>(device.Family<IProxBackend>(), rows, cols, MatrixView<T>.Of(v), MatrixView<T>.Of(value),
            MatrixView<T>.OfOptional(derivative), MatrixView<T>.OfOptional(penalty));
        activation.Accept<T, ProxLaunch<T>>(ref launch);
    }

    /// <summary>Turns the activation descriptor into its struct and calls the backend's generic prox kernel.</summary>
    private readonly struct ProxLaunch<T>(IProxBackend backend, int rows, int cols, MatrixView<T> v, MatrixView<T> value, MatrixView<T> derivative, MatrixView<T> penalty)
        : IActivationConsumer<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Consume<TAct>(TAct activation) where TAct : struct, IProxActivation<T>
            => backend.Prox(activation, rows, cols, v, value, derivative, penalty);
    }
}

/// <summary>What a backend implements for the prox family; an absent derivative or penalty is not written.</summary>
internal interface IProxBackend
{
    void Prox<T, TAct>(TAct activation, int rows, int cols, MatrixView<T> v, MatrixView<T> value, MatrixView<T> derivative, MatrixView<T> penalty)
        where T : unmanaged, IFloatingPointIeee754<T> where TAct : struct, IProxActivation<T>;
}
