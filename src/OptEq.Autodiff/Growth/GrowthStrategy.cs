namespace OptEq.Autodiff.Growth;

/// <summary>How neurons are chosen and split each growth round (docs/math.md §5).</summary>
public enum GrowthStrategy
{
    /// <summary>Exact λ_min, v_min (formed S, batched Jacobi) for fan-in ≤ 256, else converged Lanczos (40 steps); splits λ_min &lt; 0.</summary>
    Splitting,
    /// <summary>A few (8) Lanczos steps with S·v products only, never forming S; splits λ_min &lt; 0.</summary>
    Fast,
    /// <summary>Plain splits where λ_min &lt; 0, signed splits (weights 2, −1) along v_max where that gains more; dense layers only.</summary>
    Signed,
    /// <summary>The baseline: copies of randomly chosen neurons split along a random unit direction.</summary>
    Random,
}

public static class GrowthStrategies
{
    public static GrowthStrategy Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "splitting" => GrowthStrategy.Splitting,
        "fast" => GrowthStrategy.Fast,
        "signed" => GrowthStrategy.Signed,
        "random" => GrowthStrategy.Random,
        _ => throw new ArgumentException($"--grow '{text}' is not a growth strategy (splitting, fast, signed, random)"),
    };

    public static string Name(this GrowthStrategy strategy) => strategy.ToString().ToLowerInvariant();
}
