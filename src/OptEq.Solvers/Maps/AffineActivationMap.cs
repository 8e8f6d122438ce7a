using OptEq.Kernels.Activations;

namespace OptEq.Solvers.Maps;

/// <summary>
/// T(z) = σ(z·Kᵀ + c) row by row: K is [d, d], c is [batch, d] (the input injection U·x + b, computed by the layer).
/// The workhorse of OptEq, monotone and linear equilibria. Holds its workspace, so Apply allocates nothing.
/// Also provides what adjoint solvers need (J = σ′ at the equilibrium and Jacobian-transpose products) and the
/// steps of the splitting methods.
/// </summary>
public class AffineActivationMap<T> : ISplittingMap<T>, IAdjointMap<T>, IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T> _scratch;
    private Tensor<T>? _jacobian; // σ′(z*Kᵀ + c), set by PrepareAdjoint
    private Tensor<T>? _resolvent; // (I + α(I − K))⁻¹ for _resolventAlpha
    private double _resolventAlpha = double.NaN;

    public AffineActivationMap(Activation activation, Tensor<T> weight, Tensor<T> injection)
    {
        ArgumentNullException.ThrowIfNull(activation);
        if (weight.Rank != 2 || weight.Shape[0] != weight.Shape[1])
            throw new ShapeException($"equilibrium map: the weight K must be square [d, d], got [{string.Join(", ", weight.Shape)}]");
        if (injection.Rank != 2 || injection.Shape[1] != weight.Shape[0])
            throw new ShapeException($"equilibrium map: the injection c must be [batch, {weight.Shape[0]}], got [{string.Join(", ", injection.Shape)}]");
        if (injection.Device != weight.Device) throw new ArgumentException("equilibrium map: K and c live on different devices");
        Activation = activation;
        Weight = weight;
        Injection = injection;
        _scratch = Device.Pool.Rent<T>(Batch, Dimension);
    }

    public Activation Activation { get; }
    /// <summary>K, [d, d].</summary>
    public Tensor<T> Weight { get; }
    /// <summary>c, [batch, d].</summary>
    public Tensor<T> Injection { get; }
    public Device Device => Weight.Device;
    public int Batch => Injection.Shape[0];
    public int Dimension => Weight.Shape[0];

    /// <summary>result ← σ(z·Kᵀ + c): one fused kernel (GEMM with the injection and the prox in its epilogue).</summary>
    public void Apply(Tensor<T> z, Tensor<T> result) => Device.GemmProx(Activation, MatrixOp.None, MatrixOp.Transpose, z, Weight, Injection, result);

    // ---- adjoint ----------------------------------------------------------------------------------

    /// <summary>Stores J = σ′(z*·Kᵀ + c) for Jacobian products at the equilibrium z*.</summary>
    public void PrepareAdjoint(Tensor<T> equilibrium)
    {
        _jacobian ??= Device.Pool.Rent<T>(Batch, Dimension); // from the pool: a map is built per training step
        Device.GemmProx(Activation, MatrixOp.None, MatrixOp.Transpose, equilibrium, Weight, Injection, _scratch, _jacobian);
    }

    /// <summary>σ′ at the prepared equilibrium, [batch, d].</summary>
    public Tensor<T> Jacobian => _jacobian ?? throw new InvalidOperationException("call PrepareAdjoint(z*) before using Jacobian products");

    /// <summary>result ← (∂T/∂z)ᵀ·w = Kᵀ(J ⊙ w) per sample, i.e. (J ⊙ w)·K in row form.</summary>
    public void VectorJacobianProduct(Tensor<T> w, Tensor<T> result)
    {
        Device.Map(new Multiply<T>(), _scratch, Jacobian, w);
        Device.Gemm(MatrixOp.None, MatrixOp.None, T.One, _scratch, Weight, T.Zero, result);
    }

    /// <summary>result ← (J ⊙ w)·K + g, with g added in the GEMM's epilogue (the identity activation).</summary>
    public void VectorJacobianProductPlus(Tensor<T> w, Tensor<T> g, Tensor<T> result)
    {
        Device.Map(new Multiply<T>(), _scratch, Jacobian, w);
        Device.GemmProx(Activation.Identity, MatrixOp.None, MatrixOp.None, _scratch, Weight, g, result);
    }

    // ---- splitting --------------------------------------------------------------------------------

    public void ForwardStep(Tensor<T> z, double alpha, Tensor<T> result)
    {
        T a = T.CreateChecked(alpha);
        Device.Copy(Injection, result);
        Device.Gemm(MatrixOp.None, MatrixOp.Transpose, a, z, Weight, a, result);
        Device.Axpby(T.One - a, z, T.One, result, result);
    }

    public void ScaledProx(Tensor<T> u, double alpha, Tensor<T> result) => Device.Prox(Activation.Scaled(alpha), u, result);

    public void Resolvent(Tensor<T> u, double alpha, Tensor<T> result)
    {
        if (_resolvent is null || _resolventAlpha != alpha) BuildResolvent(alpha);
        Device.Axpby(T.One, u, T.CreateChecked(alpha), Injection, _scratch);
        Device.Gemm(MatrixOp.None, MatrixOp.Transpose, T.One, _scratch, _resolvent!, T.Zero, result);
    }

    /// <summary>(I + α(I − K))⁻¹ in float64 on the host, once per α and weight (not inside a solver iteration).</summary>
    private void BuildResolvent(double alpha)
    {
        int d = Dimension;
        var k = Weight.ToArray();
        var a = new double[d * d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
                a[i * d + j] = (i == j ? 1 + alpha : 0) - alpha * double.CreateChecked(k[i * d + j]);
        var inverse = DenseInverse.Invert(a, d)
            ?? throw new InvalidOperationException($"I + α(I − K) is singular for α = {alpha}; the map is not monotone");
        _resolvent ??= Device.Allocate<T>(d, d);
        _resolvent.CopyFrom(inverse.Select(T.CreateChecked).ToArray());
        _resolventAlpha = alpha;
    }

    public virtual void Dispose()
    {
        Device.Pool.Return(_scratch);
        if (_jacobian is not null) Device.Pool.Return(_jacobian);
        _resolvent?.Dispose();
        GC.SuppressFinalize(this);
    }
}
