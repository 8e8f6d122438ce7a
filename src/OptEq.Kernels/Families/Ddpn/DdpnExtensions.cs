using System.Numerics;

namespace OptEq.Kernels;

/// <summary>
/// The per-sample row kernels of DDPNOpt's backward and feedback passes (docs/math.md §6.3–§6.5). With the rank-one
/// value Hessian V_xx = y·yᵀ + ε·I of each sample, every product with Q_ux or V_xx reduces to one dot product per row
/// and a row update; the matrix products around them are ordinary GEMMs.
/// </summary>
public static class DdpnExtensions
{
    /// <summary>
    /// result[n, :] ← a[n, :] + h[n, :]·⟨h[n, :], r[n, :]⟩ + ε·d[n, :]²·r[n, :] (docs/math.md §6.4): the pre-activation
    /// vector whose GEMMs give V_x (with a = the backprop vector, r = the step's response k·x̄) or the feedback gradient
    /// Q_ux·δx (a absent, r = W·δx). An absent a is zero; an absent d is one (a layer without activation). result may be a.
    /// With a present and <paramref name="bound"/> ρ &gt; 0, each row's correction c = h·⟨h, r⟩ + ε·d²·r is scaled by
    /// min(1, ρ·‖a‖ / ‖c‖), so that ‖result − a‖ ≤ ρ·‖a‖ per row (docs/math.md §6.4); ρ = 0 leaves it unbounded.
    /// </summary>
    public static void DdpnRankOneCorrection<T>(this Device device, Tensor<T>? a, Tensor<T> h, Tensor<T> r, Tensor<T>? d, T epsilon, Tensor<T> result, T bound = default)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!(bound >= T.Zero)) throw new ArgumentOutOfRangeException(nameof(bound), bound, "ddpn-rank-one-correction: the bound must be ≥ 0");
        device.CheckSameDevice("ddpn-rank-one-correction", h, r, result, a ?? h, d ?? h);
        var (rows, cols) = Checks.SameMatrixShape("ddpn-rank-one-correction", h, r);
        Checks.SameMatrixShape("ddpn-rank-one-correction", h, result);
        if (a is not null) Checks.SameMatrixShape("ddpn-rank-one-correction (a)", h, a);
        if (d is not null) Checks.SameMatrixShape("ddpn-rank-one-correction (d)", h, d);
        Checks.NoOverlap("ddpn-rank-one-correction", "h", h, result);
        Checks.NoOverlap("ddpn-rank-one-correction", "r", r, result);
        if (d is not null) Checks.NoOverlap("ddpn-rank-one-correction", "d", d, result);
        device.Family<IDdpnBackend>().RankOneCorrection(rows, cols, MatrixView<T>.OfOptional(a), MatrixView<T>.Of(h), MatrixView<T>.Of(r),
            MatrixView<T>.OfOptional(d), epsilon, a is null ? T.Zero : bound, MatrixView<T>.Of(result));
    }

    /// <summary>
    /// result[n] ← √max(0, 1 − Σⱼ h[n, j]²·p[n, j]) (docs/math.md §6.3): the factor that carries the rank-one value
    /// Hessian down one layer, where Σⱼ h²·p = q_uᵀ·M⁻¹·q_u for the sample's q_u = h ⊗ x̄ and p = (x̄ ⊙ x̄)·M⁻¹ᵀ.
    /// </summary>
    public static void DdpnValueFactor<T>(this Device device, Tensor<T> h, Tensor<T> p, Tensor<T> result) where T : unmanaged, IFloatingPointIeee754<T>
    {
        device.CheckSameDevice("ddpn-value-factor", h, p, result);
        var (rows, cols) = Checks.SameMatrixShape("ddpn-value-factor", h, p);
        if (result.Length != rows || !result.IsContiguous)
            throw new ShapeException($"ddpn-value-factor: result must be contiguous with {rows} elements (one per row of h {ShapeUtil.Format(h.Shape)}), got {ShapeUtil.Format(result.Shape)}");
        device.Family<IDdpnBackend>().ValueFactor(rows, cols, MatrixView<T>.Of(h), MatrixView<T>.Of(p), MatrixView<T>.Vector(result));
    }

    /// <summary>
    /// result[n] ← √max(0, 1 − scale·⟨h[n, :], hg[n, :]⟩·⟨x[n, :], xa[n, :]⟩) (docs/math.md §6.3): the value-Hessian factor
    /// for a Kronecker-factored M⁻¹ = scale·(A⁻¹ ⊗ G⁻¹), where q_uᵀM⁻¹q_u = scale·(hᵀG⁻¹h)·(x̄ᵀA⁻¹x̄) for q_u = h ⊗ x̄,
    /// with hg = h·G⁻¹ and xa = x̄·A⁻¹ (GEMMs).
    /// </summary>
    public static void DdpnKroneckerValueFactor<T>(this Device device, Tensor<T> h, Tensor<T> hg, Tensor<T> x, Tensor<T> xa, T scale, Tensor<T> result)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        device.CheckSameDevice("ddpn-kronecker-value-factor", h, hg, x, xa, result);
        var (rows, hcols) = Checks.SameMatrixShape("ddpn-kronecker-value-factor (h, hg)", h, hg);
        var (xrows, xcols) = Checks.SameMatrixShape("ddpn-kronecker-value-factor (x, xa)", x, xa);
        if (xrows != rows) throw new ShapeException($"ddpn-kronecker-value-factor: h has {rows} rows but x has {xrows}");
        if (result.Length != rows || !result.IsContiguous)
            throw new ShapeException($"ddpn-kronecker-value-factor: result must be contiguous with {rows} elements (one per row of h {ShapeUtil.Format(h.Shape)}), got {ShapeUtil.Format(result.Shape)}");
        device.Family<IDdpnBackend>().KroneckerValueFactor(rows, hcols, MatrixView<T>.Of(h), MatrixView<T>.Of(hg), xcols, MatrixView<T>.Of(x), MatrixView<T>.Of(xa),
            scale, MatrixView<T>.Vector(result));
    }
}

/// <summary>What a backend implements for the DDPNOpt family; absent a and d are zero and one.</summary>
internal interface IDdpnBackend
{
    void RankOneCorrection<T>(int rows, int cols, MatrixView<T> a, MatrixView<T> h, MatrixView<T> r, MatrixView<T> d, T epsilon, T bound, MatrixView<T> result)
        where T : unmanaged, IFloatingPointIeee754<T>;

    void ValueFactor<T>(int rows, int cols, MatrixView<T> h, MatrixView<T> p, MatrixView<T> result) where T : unmanaged, IFloatingPointIeee754<T>;

    void KroneckerValueFactor<T>(int rows, int hcols, MatrixView<T> h, MatrixView<T> hg, int xcols, MatrixView<T> x, MatrixView<T> xa, T scale, MatrixView<T> result)
        where T : unmanaged, IFloatingPointIeee754<T>;
}
