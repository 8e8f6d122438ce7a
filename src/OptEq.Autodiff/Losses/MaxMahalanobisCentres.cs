namespace OptEq.Autodiff.Losses;

/// <summary>
/// The fixed class centres of the Max-Mahalanobis centre (MMC) loss (docs/math.md §7.9): L points μ_1 … μ_L in ℝ^d with
/// ‖μ_k‖ = C and ⟨μ_i, μ_j⟩ = −C²/(L − 1) for i ≠ j (a regular simplex centred at the origin, the most spread L points on
/// the sphere), built deterministically by Pang, Du and Zhu's recursion (ICML 2018; reused by the MMC loss of Pang et al.,
/// ICLR 2020): μ_1 = e_1, then for i = 2 … L, μ_i(j) = −(1/(L − 1) + ⟨μ_i, μ_j⟩)/μ_j(j) for j &lt; i and
/// μ_i(i) = √(1 − ‖μ_i‖²) (0 for the last, exactly), finally all scaled by C. Each μ_i has non-zeros in its first i
/// coordinates only.
/// </summary>
public static class MaxMahalanobisCentres
{
    /// <summary>The centres as a row-major [classes, dim] array (float64); dim ≥ classes − 1 (the simplex spans classes − 1 dimensions).</summary>
    public static double[] Build(int classes, int dim, double norm)
    {
        if (classes < 2) throw new ArgumentOutOfRangeException(nameof(classes), classes, "MMC centres need at least 2 classes");
        if (dim < classes - 1) throw new ArgumentOutOfRangeException(nameof(dim), dim, $"MMC centres of {classes} classes need at least {classes - 1} dimensions");
        if (!(norm > 0) || !double.IsFinite(norm)) throw new ArgumentOutOfRangeException(nameof(norm), norm, "the MMC centres' norm C must be finite and > 0");
        var mu = new double[classes * dim];
        mu[0] = 1;
        double cosine = -1.0 / (classes - 1);
        for (int i = 1; i < classes; i++)
        {
            var row = mu.AsSpan(i * dim, dim);
            for (int j = 0; j < i; j++)
            {
                var other = mu.AsSpan(j * dim, dim);
                double dot = 0;
                for (int c = 0; c < j; c++) dot += row[c] * other[c]; // μ_j is zero beyond its j-th coordinate
                row[j] = (cosine - dot) / other[j];
            }
            // The last centre's own coordinate is 0 (L points summing to zero span L − 1 dimensions); computed, it would be
            // √(rounding error) ≈ 10⁻⁸, so it is left at 0. |·| keeps rounding out of √ for the others.
            if (i == classes - 1) continue;
            double squared = 0;
            for (int c = 0; c < i; c++) squared += row[c] * row[c];
            row[i] = Math.Sqrt(Math.Abs(1 - squared));
        }
        for (int k = 0; k < mu.Length; k++) mu[k] *= norm;
        return mu;
    }
}
