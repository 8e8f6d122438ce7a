using OptEq.Kernels.Activations;

namespace OptEq.Solvers.Maps;

/// <summary>
/// The monotone operator network's single-convolution equilibrium (docs/math.md §3.1): T(z) = σ(W z + c) per sample with
/// W z = (1 − m)z − Aᵀ(A z) + B z − Bᵀ z, A and B k×k convolutions C → C that keep the image size (zero or circular
/// padding) and c = U∗x + b the injection, computed by the layer. W is never formed: each application is four
/// convolutions (A, Aᵀ, B, Bᵀ). The symmetric part of I − W is mI + AᵀA ⪰ mI, so the equilibrium is unique.
/// <para>Forward–backward splitting runs on it with a relative step: <see cref="ForwardStep"/>(z, α) takes the step
/// α·<see cref="StepScale"/>, and the layer sets StepScale = m/L̂² from a power-iteration estimate L̂ of L = ||I − W||₂
/// (<see cref="LipschitzEstimate"/>). So α = 1 is m/L², the step that minimises the contraction bound
/// √(1 − 2αm + α²L²), and any α &lt; 2 keeps the convergence condition α·m/L² &lt; 2m/L². Peaceman–Rachford needs
/// (I + α(I − W))⁻¹, a Fourier-domain solve for circular convolutions that this map does not have, so it is a
/// forward–backward map, not a splitting map.</para>
/// Holds its workspace, so neither the map nor its adjoint allocates per iteration.
/// </summary>
public sealed class MonotoneConvMap<T> : IForwardBackwardMap<T>, IAdjointMap<T>, IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Conv2dGeometry _geometry;
    private readonly Tensor<T> _linear;    // W z + c of the last Apply (reused by ForwardStep on the same z)
    private readonly Tensor<T> _convolved; // A z, A u: the inner convolution of AᵀA
    private readonly Tensor<T> _product;   // J ⊙ w in the adjoint
    private readonly Tensor<T> _jacobian;  // σ′(W z* + c), set by PrepareAdjoint
    private readonly Tensor<T> _kernelScratch;
    private Tensor<T>? _lastApplied;
    private bool _prepared;

    /// <param name="geometry">The convolution of A and B: C → C channels, stride 1, output size = input size.</param>
    /// <param name="a">A, [C, C·k·k].</param>
    /// <param name="b">B, [C, C·k·k].</param>
    /// <param name="margin">m &gt; 0, the monotonicity margin.</param>
    /// <param name="injection">c, [batch, C·H·W].</param>
    public MonotoneConvMap(Activation activation, Conv2dGeometry geometry, Tensor<T> a, Tensor<T> b, double margin, Tensor<T> injection)
    {
        ArgumentNullException.ThrowIfNull(activation);
        Check(geometry);
        if (!(margin > 0)) throw new ArgumentOutOfRangeException(nameof(margin), margin, "the monotonicity margin m must be > 0");
        int columns = geometry.WeightColumns;
        if (a.Rank != 2 || a.Shape[0] != geometry.OutChannels || a.Shape[1] != columns || b.Rank != 2 || b.Shape[0] != geometry.OutChannels || b.Shape[1] != columns)
            throw new ShapeException($"monotone conv map: A and B must be [{geometry.OutChannels}, {columns}], got [{string.Join(", ", a.Shape)}] and [{string.Join(", ", b.Shape)}]");
        if (injection.Rank != 2 || injection.Shape[1] != geometry.InputSize)
            throw new ShapeException($"monotone conv map: the injection must be [batch, {geometry.InputSize}], got [{string.Join(", ", injection.Shape)}]");
        Activation = activation;
        _geometry = geometry;
        A = a;
        B = b;
        Margin = margin;
        Injection = injection;
        var pool = Device.Pool;
        _linear = pool.Rent<T>(Batch, Dimension);
        _convolved = pool.Rent<T>(Batch, Dimension);
        _product = pool.Rent<T>(Batch, Dimension);
        _jacobian = pool.Rent<T>(Batch, Dimension);
        _kernelScratch = pool.Rent<T>(a.Shape[0], a.Shape[1]);
    }

    /// <summary>Checks that a geometry is one W can use: square channels, stride 1, the output the input's size.</summary>
    public static void Check(in Conv2dGeometry g)
    {
        if (g.InChannels != g.OutChannels || g.Stride != 1 || g.OutHeight != g.Height || g.OutWidth != g.Width)
            throw new ArgumentException($"monotone conv map: A and B must map C channels to C with stride 1 and keep the image size (odd kernel, padding (k − 1)/2); got {g}");
    }

    public Activation Activation { get; }
    public Tensor<T> A { get; }
    public Tensor<T> B { get; }
    public double Margin { get; }
    public Tensor<T> Injection { get; }
    public Device Device => A.Device;
    public int Batch => Injection.Shape[0];
    public int Dimension => _geometry.InputSize;

    /// <summary>The factor of the splitting step: the step taken is α·StepScale (1 unless the layer sets m/L̂²).</summary>
    public double StepScale { get; set; } = 1;

    /// <summary>result ← σ(W z + c).</summary>
    public void Apply(Tensor<T> z, Tensor<T> result)
    {
        Linear(z, Injection, transpose: false, _linear);
        Device.Prox(Activation, _linear, result);
        _lastApplied = z;
    }

    /// <summary>
    /// result ← Wz + c, or with <paramref name="transpose"/> Wᵀz + c (Wᵀ swaps the signs of B and Bᵀ), in four
    /// convolutions whose β accumulates: result ← −(1 − m)z − c; += Aᵀ(Az); += B̃ᵀz; ← B̃z − result, with B̃ = B or −B.
    /// </summary>
    private void Linear(Tensor<T> z, Tensor<T> c, bool transpose, Tensor<T> result)
    {
        var g = _geometry;
        Device.Conv2d(g, z, A, null, _convolved);
        Device.Axpby(T.CreateChecked(-(1 - Margin)), z, -T.One, c, result);
        Device.Conv2dBackwardInput(g, _convolved, A, result, T.One);
        if (!transpose)
        {
            Device.Conv2dBackwardInput(g, z, B, result, T.One);   // + Bᵀz
            Device.Conv2d(g, z, B, null, result, -T.One);         // Bz − (…)
        }
        else
        {
            Device.Conv2d(g, z, B, null, result, T.One);          // + Bz
            Device.Conv2dBackwardInput(g, z, B, result, -T.One);  // Bᵀz − (…)
        }
    }

    // ---- adjoint ----------------------------------------------------------------------------------

    /// <summary>Stores J = σ′(W z* + c).</summary>
    public void PrepareAdjoint(Tensor<T> equilibrium)
    {
        Linear(equilibrium, Injection, transpose: false, _linear);
        Device.Prox(Activation, _linear, _convolved, _jacobian);
        _lastApplied = null;
        _prepared = true;
    }

    /// <summary>σ′ at the prepared equilibrium, [batch, C·H·W].</summary>
    public Tensor<T> Jacobian => _prepared ? _jacobian : throw new InvalidOperationException("call PrepareAdjoint(z*) before using Jacobian products");

    /// <summary>result ← (∂T/∂z)ᵀ w = Wᵀ(J ⊙ w).</summary>
    public void VectorJacobianProduct(Tensor<T> w, Tensor<T> result)
    {
        Device.Map(new Multiply<T>(), _product, Jacobian, w);
        Device.Fill(result, T.Zero);
        Linear(_product, result, transpose: true, result);
    }

    /// <summary>result ← Wᵀ(J ⊙ w) + g, with g added where the first convolution's β accumulates.</summary>
    public void VectorJacobianProductPlus(Tensor<T> w, Tensor<T> g, Tensor<T> result)
    {
        Device.Map(new Multiply<T>(), _product, Jacobian, w);
        Linear(_product, g, transpose: true, result);
    }

    /// <summary>
    /// The gradients of ⟨u, W z⟩ for A and B, added to <paramref name="gradA"/> and <paramref name="gradB"/> (docs/math.md
    /// §3.1): ∂/∂A = −(∇_A⟨Au, Az⟩) = −(Kw(u, Az) + Kw(z, Au)) and ∂/∂B = Kw(z, u) − Kw(u, z), where Kw(x, y) is the
    /// convolution's weight gradient for input x and output gradient y. Either gradient may be null (not wanted).
    /// </summary>
    public void AccumulateWeightGradients(Tensor<T> u, Tensor<T> z, Tensor<T>? gradA, Tensor<T>? gradB)
    {
        var g = _geometry;
        if (gradA is not null)
        {
            Device.Conv2d(g, z, A, null, _convolved);
            Device.Conv2dBackwardWeight(g, u, _convolved, _kernelScratch);
            Device.Conv2d(g, u, A, null, _convolved);
            Device.Conv2dBackwardWeight(g, z, _convolved, _kernelScratch, T.One);
            Device.Axpby(-T.One, _kernelScratch, T.One, gradA, gradA);
        }
        if (gradB is not null)
        {
            Device.Conv2dBackwardWeight(g, u, z, _kernelScratch);
            Device.Axpby(-T.One, _kernelScratch, T.One, gradB, gradB);
            Device.Conv2dBackwardWeight(g, z, u, gradB, T.One);
        }
    }

    // ---- splitting --------------------------------------------------------------------------------

    /// <summary>
    /// result ← (1 − a)z + a(W z + c) with a = α·<see cref="StepScale"/>. Reuses W z + c when z is the tensor the last
    /// <see cref="Apply"/> read (forward–backward evaluates T(z), then steps from the same z).
    /// </summary>
    public void ForwardStep(Tensor<T> z, double alpha, Tensor<T> result)
    {
        if (!ReferenceEquals(z, _lastApplied)) Linear(z, Injection, transpose: false, _linear);
        _lastApplied = null;
        T a = T.CreateChecked(alpha * StepScale);
        Device.Axpby(T.One - a, z, a, _linear, result);
    }

    public void ScaledProx(Tensor<T> u, double alpha, Tensor<T> result) => Device.Prox(Activation.Scaled(alpha * StepScale), u, result);

    // ---- ||I − W||₂ -------------------------------------------------------------------------------

    /// <summary>
    /// Power iteration on (I − W)ᵀ(I − W) from the unit vector <paramref name="vector"/> [1, C·H·W] (updated in place,
    /// so a persistent vector warm-starts the next call): returns L̂ = ||(I − W)v|| ≤ ||I − W||₂ after
    /// <paramref name="steps"/> steps. <paramref name="first"/> and <paramref name="second"/> are [1, C·H·W] scratch and
    /// <paramref name="norm"/> [1]; reads two scalars per step back to the host (once per training step, never inside a
    /// solver iteration).
    /// </summary>
    public static double LipschitzEstimate(Conv2dGeometry geometry, Tensor<T> a, Tensor<T> b, double margin, Tensor<T> vector,
        Tensor<T> first, Tensor<T> second, Tensor<T> norm, int steps)
    {
        Check(geometry);
        var device = a.Device;
        double estimate = 0;
        for (int s = 0; s < steps; s++)
        {
            // (I − W)v = m v + Aᵀ(Av) − Bv + Bᵀv, then (I − W)ᵀ of that = m x + Aᵀ(Ax) + Bx − Bᵀx.
            IdentityMinusW(device, geometry, a, b, margin, vector, first, second, transpose: false);
            estimate = Math.Sqrt(SquaredNorm(device, first, norm));
            IdentityMinusW(device, geometry, a, b, margin, first, vector, second, transpose: true);
            double n = Math.Sqrt(SquaredNorm(device, vector, norm));
            if (!(n > 0) || !double.IsFinite(n)) return estimate;
            device.Axpby(T.CreateChecked(1 / n), vector, T.Zero, vector, vector);
        }
        return estimate;
    }

    private static void IdentityMinusW(Device device, in Conv2dGeometry g, Tensor<T> a, Tensor<T> b, double margin, Tensor<T> v, Tensor<T> result, Tensor<T> scratch, bool transpose)
    {
        device.Conv2d(g, v, a, null, scratch);
        device.Conv2dBackwardInput(g, scratch, a, result);
        device.Axpby(T.CreateChecked(margin), v, T.One, result, result);
        T sign = transpose ? T.One : -T.One;
        device.Conv2d(g, v, b, null, scratch);
        device.Axpby(sign, scratch, T.One, result, result);
        device.Conv2dBackwardInput(g, v, b, scratch);
        device.Axpby(-sign, scratch, T.One, result, result);
    }

    private static double SquaredNorm(Device device, Tensor<T> x, Tensor<T> norm)
    {
        device.RowReduce(RowReduction.SquaredNorm, x, null, norm);
        Span<T> host = stackalloc T[1];
        norm.CopyTo(host);
        return double.CreateChecked(host[0]);
    }

    public void Dispose()
    {
        var pool = Device.Pool;
        pool.Return(_linear);
        pool.Return(_convolved);
        pool.Return(_product);
        pool.Return(_jacobian);
        pool.Return(_kernelScratch);
    }
}
