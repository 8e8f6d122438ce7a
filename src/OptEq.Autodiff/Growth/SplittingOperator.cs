namespace OptEq.Autodiff.Growth;

/// <summary>
/// The splitting matrices of the H neurons of one layer, all sharing the inputs ξ_s (rows of Ξ [N, D]):
/// <code>
/// S_i = Σ_s c_si·ξ_s ξ_sᵀ + Σ_s d_si·(e a_sᵀ ξ… ) − shift·P_K
///     = Ξᵀ diag(c_i) Ξ + P_K Aᵀ diag(d_i) Ξ + Ξᵀ diag(d_i) A P_Kᵀ − shift·P_K P_Kᵀ
/// </code>
/// where c_si = g_si·σ″ (the dense term, docs/math.md §5.2), and the optional cross term (the OptEq unit, §5.6) has
/// a_s ∈ R^K in the first K coordinates (P_K embeds them), d_si = σ′ and a norm-rescaling shift on those coordinates.
/// <see cref="Form"/> builds every S_i (one batched product per term); <see cref="Apply"/> gives S_i·v_i for every
/// neuron at once without forming S (the fast variant). Everything here is float64 on the host.
/// </summary>
public sealed class SplittingOperator
{
    public SplittingOperator(int samples, int dim, int neurons, double[] inputs, double[] curvature)
    {
        if (inputs.Length != (long)samples * dim) throw new ArgumentException($"splitting: inputs must be [{samples}, {dim}]");
        if (curvature.Length != (long)samples * neurons) throw new ArgumentException($"splitting: curvature must be [{samples}, {neurons}]");
        Samples = samples; Dim = dim; Neurons = neurons; Inputs = inputs; Curvature = curvature;
    }

    public int Samples { get; }
    public int Dim { get; }
    public int Neurons { get; }
    /// <summary>Ξ [N, D], row-major.</summary>
    public double[] Inputs { get; }
    /// <summary>c [N, H]: the weight of ξξᵀ per sample and neuron (already including the loss's 1/N).</summary>
    public double[] Curvature { get; }
    /// <summary>The OptEq unit's cross term: A [N, K], d [N, H], and the shift on the first K coordinates.</summary>
    public (int K, double[] A, double[] Slope, double Shift)? Cross { get; init; }

    /// <summary>Every S_i, as [H, D, D].</summary>
    public double[] Form()
    {
        int n = Samples, d = Dim, h = Neurons;
        var s = new double[(long)h * d * d];
        Parallel.For(0, h, i =>
        {
            long o = (long)i * d * d;
            for (int r = 0; r < n; r++)
            {
                double c = Curvature[r * h + i];
                if (c == 0) continue;
                int xr = r * d;
                for (int p = 0; p < d; p++)
                {
                    double cp = c * Inputs[xr + p];
                    if (cp == 0) continue;
                    long row = o + (long)p * d;
                    for (int q = 0; q < d; q++) s[row + q] += cp * Inputs[xr + q];
                }
            }
            if (Cross is var (k, a, slope, shift))
            {
                for (int r = 0; r < n; r++)
                {
                    double sl = slope[r * h + i];
                    if (sl == 0) continue;
                    for (int p = 0; p < k; p++)
                    {
                        double ap = sl * a[r * k + p];
                        for (int q = 0; q < d; q++)
                        {
                            double t = ap * Inputs[r * d + q];
                            s[o + (long)p * d + q] += t;
                            s[o + (long)q * d + p] += t;
                        }
                    }
                }
                for (int p = 0; p < k; p++) s[o + (long)p * d + p] -= shift;
            }
        });
        return s;
    }

    /// <summary>result_i ← S_i·v_i for every neuron i; v and result are [H, D].</summary>
    public void Apply(double[] v, double[] result)
    {
        int n = Samples, d = Dim, h = Neurons;
        Parallel.For(0, h, i =>
        {
            var acc = new double[d];
            int vo = i * d;
            for (int r = 0; r < n; r++)
            {
                int xr = r * d;
                double p = 0;
                for (int q = 0; q < d; q++) p += Inputs[xr + q] * v[vo + q];
                double coefficient = Curvature[r * h + i] * p;
                if (Cross is var (k, a, slope, _))
                {
                    double sl = slope[r * h + i];
                    if (sl != 0)
                    {
                        double av = 0;
                        for (int q = 0; q < k; q++) av += a[r * k + q] * v[vo + q];
                        coefficient += sl * av;
                        for (int q = 0; q < k; q++) acc[q] += sl * p * a[r * k + q];
                    }
                }
                if (coefficient == 0) continue;
                for (int q = 0; q < d; q++) acc[q] += coefficient * Inputs[xr + q];
            }
            if (Cross is var (k2, _, _, shift)) for (int q = 0; q < k2; q++) acc[q] -= shift * v[vo + q];
            Array.Copy(acc, 0, result, vo, d);
        });
    }
}
