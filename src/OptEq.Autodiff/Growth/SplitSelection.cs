namespace OptEq.Autodiff.Growth;

/// <summary>A chosen split with its eigenvalue and predicted loss change (ε²/2)·λ_min, or −ε²·λ_max when signed.</summary>
public sealed record ChosenSplit(SplitDecision Decision, double Lambda, double PredictedGain);

/// <summary>
/// Chooses which neurons to split in a round: one global ranking by predicted loss change over every growable layer
/// (gains add across neurons, docs/math.md §5.3), at most <c>budget</c> of them and never past a layer's maximum width.
/// </summary>
public static class SplitSelection
{
    public static NeuronEigen[] Eigen(Device device, SplittingOperator op, GrowthStrategy strategy, int seed) => strategy switch
    {
        GrowthStrategy.Fast => MinimumEigen.Lanczos(op, 8, seed),
        _ when op.Dim <= 64 => MinimumEigen.Exact(device, op),
        _ => MinimumEigen.Lanczos(op, 40, seed),
    };

    public static List<ChosenSplit> Choose(Device device, IReadOnlyList<LayerSplitting> layers, GrowthStrategy strategy, double fraction, int maxWidth, double epsilon, int seed)
    {
        if (!(fraction > 0 && fraction <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "--grow-fraction must lie in (0, 1]");
        int total = layers.Sum(l => l.Target.Width);
        int budget = Math.Max(1, (int)Math.Ceiling(fraction * total));
        var room = layers.ToDictionary(l => l.Target.LayerIndex, l => Math.Max(0, maxWidth - l.Target.Width));
        var rng = new Random(seed);
        var candidates = new List<ChosenSplit>();
        foreach (var layer in layers)
        {
            if (strategy == GrowthStrategy.Random)
            {
                for (int i = 0; i < layer.Target.Width; i++)
                {
                    var v = new double[layer.Operator.Dim];
                    for (int q = 0; q < v.Length; q++) v[q] = Gaussian(rng);
                    double norm = Math.Sqrt(v.Sum(t => t * t));
                    for (int q = 0; q < v.Length; q++) v[q] /= norm;
                    candidates.Add(new ChosenSplit(new SplitDecision(layer.Target, i, v), double.NaN, rng.NextDouble()));
                }
                continue;
            }
            if (strategy == GrowthStrategy.Signed && layer.Target.Kind == SplitKind.OptEqUnit)
                throw new ArgumentException("--grow signed splits dense layers only: an OptEq unit cannot take a negative output weight (docs/math.md §5.6)");
            var eigen = Eigen(device, layer.Operator, strategy, seed);
            for (int i = 0; i < eigen.Length; i++)
            {
                var e = eigen[i];
                double plain = 0.5 * epsilon * epsilon * e.LambdaMin, signed = -epsilon * epsilon * e.LambdaMax;
                if (strategy == GrowthStrategy.Signed && signed < plain && signed < 0)
                    candidates.Add(new ChosenSplit(new SplitDecision(layer.Target, i, e.VMax, Signed: true), e.LambdaMax, signed));
                else if (e.LambdaMin < 0)
                    candidates.Add(new ChosenSplit(new SplitDecision(layer.Target, i, e.VMin), e.LambdaMin, plain));
            }
        }
        var chosen = new List<ChosenSplit>();
        foreach (var c in candidates.OrderBy(c => c.PredictedGain))
        {
            if (chosen.Count == budget) break;
            int layer = c.Decision.Target.LayerIndex;
            if (room[layer] == 0) continue;
            room[layer]--;
            chosen.Add(c);
        }
        return chosen;
    }

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
