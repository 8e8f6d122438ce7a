using System.Globalization;
using System.Text.RegularExpressions;
using OptEq.Kernels;

namespace OptEq.Cli.Bench;

/// <summary>
/// One shape of <c>opteq bench conv</c>: a convolution ("Cin×H×W→Cout:KH×KW/sS/pP", a trailing c for circular padding,
/// e.g. "32×14×14→32:3×3/s1/p1c") or an average pooling ("pool:C×H×W/kK/sS"); x may stand for ×, and -> for →.
/// </summary>
public sealed partial record ConvCase(string Name, Conv2dGeometry? Conv, Pool2dGeometry? Pool)
{
    /// <summary>The shapes of the convolutional models of issue 12 (3×3 kernels, MNIST 28×28): input convolutions at stride 1 and 2, the 14×14 and 28×28 interior convolutions (zero and circular), the multi-tier stride-2 convolutions, and the poolings.</summary>
    public static readonly string[] Defaults =
    [
        "1x28x28->32:3x3/s1/p1", "1x28x28->48:3x3/s1/p1",
        "1x28x28->32:3x3/s2/p1", "1x28x28->48:3x3/s2/p1",
        "32x14x14->32:3x3/s1/p1", "32x14x14->32:3x3/s1/p1c",
        "48x14x14->48:3x3/s1/p1", "48x14x14->48:3x3/s1/p1c",
        "64x14x14->64:3x3/s1/p1", "64x14x14->64:3x3/s1/p1c",
        "32x28x28->32:3x3/s1/p1",
        "16x28x28->32:3x3/s2/p1", "32x14x14->32:3x3/s2/p1",
        "pool:32x28x28/k2/s2", "pool:48x28x28/k4/s4",
    ];

    public bool IsPool => Pool is not null;

    /// <summary>The passes timed for this shape.</summary>
    public IReadOnlyList<string> Passes => IsPool ? ["forward", "backward"] : ["forward", "backward-input", "backward-weight"];

    /// <summary>Multiply-adds per sample of one pass (the convolutions' three passes have the same count); pooling: input elements.</summary>
    public double WorkPerSample => Conv is { } g ? (double)g.OutputSize * g.WeightColumns : Pool!.Value.InputSize;

    public static ConvCase Parse(string text)
    {
        string t = text.Trim().Replace('×', 'x').Replace("→", "->", StringComparison.Ordinal).ToLowerInvariant();
        try
        {
            var pool = PoolPattern().Match(t);
            if (pool.Success)
            {
                int[] v = [.. Enumerable.Range(1, 5).Select(i => Int(pool.Groups[i].Value))];
                return new ConvCase(t, null, new Pool2dGeometry(v[0], v[1], v[2], v[3], v[4]));
            }
            var conv = ConvPattern().Match(t);
            if (conv.Success)
            {
                int[] v = [.. Enumerable.Range(1, 8).Select(i => Int(conv.Groups[i].Value))];
                var mode = conv.Groups[9].Value == "c" ? ConvPadding.Circular : ConvPadding.Zero;
                return new ConvCase(t, new Conv2dGeometry(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], mode), null);
            }
        }
        catch (ShapeException e) { throw new ArgumentException($"shape '{text}': {e.Message}"); }
        throw new ArgumentException($"shape '{text}' is neither a convolution Cin×H×W→Cout:KH×KW/sS/pP[c] (e.g. 32x14x14->32:3x3/s1/p1c) nor a pooling pool:C×H×W/kK/sS (e.g. pool:48x28x28/k4/s4)");
    }

    private static int Int(string s) => int.Parse(s, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^(\d+)x(\d+)x(\d+)->(\d+):(\d+)x(\d+)/s(\d+)/p(\d+)(c?)$")]
    private static partial Regex ConvPattern();

    [GeneratedRegex(@"^pool:(\d+)x(\d+)x(\d+)/k(\d+)/s(\d+)$")]
    private static partial Regex PoolPattern();
}
