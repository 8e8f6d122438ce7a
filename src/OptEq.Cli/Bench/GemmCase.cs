namespace OptEq.Cli.Bench;

/// <summary>One GEMM shape to measure: C[m, n] ← op(A)[m, k]·op(B)[k, n], with the operand transposes.</summary>
public readonly record struct GemmCase(int M, int N, int K, bool TransA, bool TransB)
{
    /// <summary>"NN", "TN", …: op(A) then op(B), as in BLAS.</summary>
    public string Ops => $"{(TransA ? 'T' : 'N')}{(TransB ? 'T' : 'N')}";

    public double Flops => 2.0 * M * N * K;

    /// <summary>
    /// The default shapes: cubes, then the OptEq layer products (batch 128 × hidden × hidden, as in z·Wᵀ with z [128, h]).
    /// </summary>
    public static readonly string[] DefaultSizes = ["128", "256", "512", "1024", "128x256x256", "128x512x512", "128x1024x1024"];

    /// <summary>Parses "N" (N×N×N) or "MxNxK".</summary>
    public static (int M, int N, int K) ParseSize(string text)
    {
        var parts = text.Trim().ToLowerInvariant().Split('x', '×');
        var values = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], out values[i]) || values[i] < 1)
                throw new ArgumentException($"size '{text}' is not N or MxNxK with positive integers");
        return values.Length switch
        {
            1 => (values[0], values[0], values[0]),
            3 => (values[0], values[1], values[2]),
            _ => throw new ArgumentException($"size '{text}' is not N or MxNxK"),
        };
    }

    /// <summary>Parses "NN,NT" or "all" into (transA, transB) pairs.</summary>
    public static IReadOnlyList<(bool TransA, bool TransB)> ParseOps(string text)
    {
        if (text.Trim().Equals("all", StringComparison.OrdinalIgnoreCase)) text = "NN,TN,NT,TT";
        var ops = new List<(bool, bool)>();
        foreach (var op in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var o = op.ToUpperInvariant();
            if (o.Length != 2 || o.Any(ch => ch is not ('N' or 'T')))
                throw new ArgumentException($"op '{op}' is not one of NN, TN, NT, TT (op(A) then op(B)) or 'all'");
            ops.Add((o[0] == 'T', o[1] == 'T'));
        }
        return ops;
    }
}
