using OptEq.Kernels.Activations;
using OptEq.Solvers.Operators;

namespace OptEq.Solvers.Maps;

/// <summary>
/// T(z) = σ(K z + c) row by row with K a linear operator (a convolution, a block of convolutions, WᵀW of either) rather
/// than a dense matrix: the operator form of <see cref="AffineActivationMap{T}"/>. Each application is the operator
/// onto a copy of c, then the prox in place. Holds its workspace (from the device pool), so Apply allocates nothing.
/// Gives the adjoint products (∂T/∂z)ᵀw = Kᵀ(J ⊙ w) and the forward–backward steps.
/// </summary>
public class OperatorActivationMap<T> : IForwardBackwardMap<T>, IAdjointMap<T>, IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T> _scratch;
    private Tensor<T>? _jacobian; // σ′(K z* + c), set by PrepareAdjoint

    /// <param name="operator">K, square (InputSize = OutputSize = d).</param>
    /// <param name="injection">c, [batch, d].</param>
    public OperatorActivationMap(Activation activation, ILinearOperator<T> @operator, Tensor<T> injection)
    {
        ArgumentNullException.ThrowIfNull(activation);
        ArgumentNullException.ThrowIfNull(@operator);
        if (@operator.InputSize != @operator.OutputSize)
            throw new ShapeException($"equilibrium map: the operator K must be square, got {@operator.OutputSize}×{@operator.InputSize}");
        if (injection.Rank != 2 || injection.Shape[1] != @operator.InputSize)
            throw new ShapeException($"equilibrium map: the injection c must be [batch, {@operator.InputSize}], got [{string.Join(", ", injection.Shape)}]");
        if (injection.Device != @operator.Device) throw new ArgumentException("equilibrium map: K and c live on different devices");
        Activation = activation;
        Operator = @operator;
        Injection = injection;
        _scratch = Device.Pool.Rent<T>(Batch, Dimension);
    }

    public Activation Activation { get; }
    /// <summary>K.</summary>
    public ILinearOperator<T> Operator { get; }
    /// <summary>c, [batch, d].</summary>
    public Tensor<T> Injection { get; }
    public Device Device => Operator.Device;
    public int Batch => Injection.Shape[0];
    public int Dimension => Operator.InputSize;

    /// <summary>result ← σ(K z + c).</summary>
    public void Apply(Tensor<T> z, Tensor<T> result)
    {
        Device.Copy(Injection, result);
        Operator.Apply(z, result, T.One);
        Device.Prox(Activation, result, result);
    }

    // ---- adjoint ----------------------------------------------------------------------------------

    /// <summary>Stores J = σ′(K z* + c).</summary>
    public void PrepareAdjoint(Tensor<T> equilibrium)
    {
        _jacobian ??= Device.Pool.Rent<T>(Batch, Dimension);
        Device.Copy(Injection, _scratch);
        Operator.Apply(equilibrium, _scratch, T.One);
        Device.Prox(Activation, _scratch, _scratch, _jacobian);
    }

    /// <summary>σ′ at the prepared equilibrium, [batch, d].</summary>
    public Tensor<T> Jacobian => _jacobian ?? throw new InvalidOperationException("call PrepareAdjoint(z*) before using Jacobian products");

    /// <summary>result ← (∂T/∂z)ᵀ·w = Kᵀ(J ⊙ w).</summary>
    public void VectorJacobianProduct(Tensor<T> w, Tensor<T> result)
    {
        Device.Map(new Multiply<T>(), _scratch, Jacobian, w);
        Operator.ApplyTranspose(_scratch, result, T.Zero);
    }

    /// <summary>result ← Kᵀ(J ⊙ w) + g.</summary>
    public void VectorJacobianProductPlus(Tensor<T> w, Tensor<T> g, Tensor<T> result)
    {
        Device.Map(new Multiply<T>(), _scratch, Jacobian, w);
        Device.Copy(g, result);
        Operator.ApplyTranspose(_scratch, result, T.One);
    }

    // ---- forward–backward splitting ---------------------------------------------------------------

    /// <summary>result ← (1 − α)z + α(K z + c).</summary>
    public void ForwardStep(Tensor<T> z, double alpha, Tensor<T> result)
    {
        T a = T.CreateChecked(alpha);
        Device.Copy(Injection, result);
        Operator.Apply(z, result, T.One);
        Device.Axpby(T.One - a, z, a, result, result);
    }

    public void ScaledProx(Tensor<T> u, double alpha, Tensor<T> result) => Device.Prox(Activation.Scaled(alpha), u, result);

    public virtual void Dispose()
    {
        Device.Pool.Return(_scratch);
        if (_jacobian is not null) Device.Pool.Return(_jacobian);
        GC.SuppressFinalize(this);
    }
}
