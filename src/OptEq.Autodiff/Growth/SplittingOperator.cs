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
/// neuron at once without forming S (the fast variant). With a <see cref="Device"/> both are float64 GEMMs on it,
/// batched over the neurons (<see cref="Form"/>: Ξᵀ·[c_1 ⊙ Ξ, …, c_H ⊙ Ξ], one product for the whole layer;
/// <see cref="Apply"/>: four products per call); <see cref="FormReference"/> and <see cref="ApplyReference"/> are the
/// plain host loops they are tested against. Only the N×H elementwise weights are computed on the host.
/// </summary>
public sealed class SplittingOperator : IDisposable
{
    private Tensor<double>? _inputs, _cross;

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

    /// <summary>Where the batched products run (null: the host reference loops).</summary>
    public Device? Device { get; init; }

    /// <summary>Every S_i, as [H, D, D].</summary>
    public double[] Form() => Device is null ? FormReference() : FormOnDevice(Device);

    /// <summary>result_i ← S_i·v_i for every neuron i; v and result are [H, D].</summary>
    public void Apply(double[] v, double[] result)
    {
        if (Device is null) ApplyReference(v, result);
        else ApplyOnDevice(Device, v, result);
    }

    private Tensor<double> InputsOn(Device device) => _inputs ??= device.FromArray<double>(Inputs, Samples, Dim);

    private double[] FormOnDevice(Device device)
    {
        int n = Samples, d = Dim, h = Neurons;
        var weighted = new double[(long)n * h * d]; // [N, H·D]: row s holds c_si·ξ_s for every i
        var s = new double[(long)h * d * d];
        using (var z = device.Allocate<double>(n, h * d))
        using (var product = device.Allocate<double>(d, h * d))
        {
            Weighted(Curvature, weighted);
            z.CopyFrom(weighted);
            device.Gemm(MatrixOp.Transpose, MatrixOp.None, 1.0, InputsOn(device), z, 0.0, product); // [D, H·D]
            var p = product.ToArray();
            for (int i = 0; i < h; i++)
                for (int r = 0; r < d; r++)
                    Array.Copy(p, (long)r * h * d + (long)i * d, s, (long)i * d * d + (long)r * d, d);
            if (Cross is var (k, a, slope, shift))
            {
                Weighted(slope, weighted);
                z.CopyFrom(weighted);
                _cross ??= device.FromArray<double>(a, n, k);
                using var b = device.Allocate<double>(k, h * d);
                device.Gemm(MatrixOp.Transpose, MatrixOp.None, 1.0, _cross, z, 0.0, b); // B_i = Aᵀ diag(d_i) Ξ, [K, H·D]
                var bh = b.ToArray();
                for (int i = 0; i < h; i++)
                    for (int r = 0; r < k; r++)
                        for (int q = 0; q < d; q++)
                        {
                            double t = bh[(long)r * h * d + (long)i * d + q];
                            s[(long)i * d * d + (long)r * d + q] += t;
                            s[(long)i * d * d + (long)q * d + r] += t;
                        }
                for (int i = 0; i < h; i++) for (int r = 0; r < k; r++) s[(long)i * d * d + (long)r * d + r] -= shift;
            }
        }
        return s;
    }

    private void Weighted(double[] weights, double[] z)
    {
        int n = Samples, d = Dim, h = Neurons;
        Parallel.For(0, n, r =>
        {
            for (int i = 0; i < h; i++)
            {
                double w = weights[r * h + i];
                long o = (long)r * h * d + (long)i * d;
                for (int q = 0; q < d; q++) z[o + q] = w * Inputs[r * d + q];
            }
        });
    }

    private void ApplyOnDevice(Device device, double[] v, double[] result)
    {
        int n = Samples, d = Dim, h = Neurons;
        using var vt = device.FromArray<double>(v, h, d);
        using var p = device.Allocate<double>(n, h);
        device.Gemm(MatrixOp.None, MatrixOp.Transpose, 1.0, InputsOn(device), vt, 0.0, p); // p_si = ξ_sᵀ v_i
        var ph = p.ToArray();
        var q = new double[n * h];
        for (int t = 0; t < q.Length; t++) q[t] = Curvature[t] * ph[t];
        double[]? sp = null;
        if (Cross is var (k, a, slope, _))
        {
            _cross ??= device.FromArray<double>(a, n, k);
            var vw = new double[h * k];
            for (int i = 0; i < h; i++) Array.Copy(v, i * d, vw, i * k, k);
            using var vwt = device.FromArray<double>(vw, h, k);
            using var av = device.Allocate<double>(n, h);
            device.Gemm(MatrixOp.None, MatrixOp.Transpose, 1.0, _cross, vwt, 0.0, av); // a_sᵀ v_i,w
            var avh = av.ToArray();
            sp = new double[n * h];
            for (int t = 0; t < q.Length; t++) { q[t] += slope[t] * avh[t]; sp[t] = slope[t] * ph[t]; }
        }
        using var qt = device.FromArray<double>(q, n, h);
        using var r = device.Allocate<double>(h, d);
        device.Gemm(MatrixOp.Transpose, MatrixOp.None, 1.0, qt, InputsOn(device), 0.0, r); // Σ_s q_si ξ_s
        r.CopyTo(result);
        if (Cross is var (k2, _, _, shift))
        {
            using var spt = device.FromArray<double>(sp!, n, h);
            using var ra = device.Allocate<double>(h, k2);
            device.Gemm(MatrixOp.Transpose, MatrixOp.None, 1.0, spt, _cross!, 0.0, ra); // Σ_s d_si p_si a_s
            var rah = ra.ToArray();
            for (int i = 0; i < h; i++) for (int c = 0; c < k2; c++) result[i * d + c] += rah[i * k2 + c] - shift * v[i * d + c];
        }
    }

    public void Dispose()
    {
        _inputs?.Dispose(); _inputs = null;
        _cross?.Dispose(); _cross = null;
    }

    /// <summary>Every S_i, as [H, D, D], by plain loops on the host (the reference of <see cref="Form"/>).</summary>
    public double[] FormReference()
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

    /// <summary>result_i ← S_i·v_i by plain loops on the host (the reference of <see cref="Apply"/>).</summary>
    public void ApplyReference(double[] v, double[] result)
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
