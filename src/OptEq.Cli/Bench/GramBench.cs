using OptEq.Kernels;
using OptEq.Kernels.Reference;
using OptEq.Solvers.Operators;

namespace OptEq.Cli.Bench;

/// <summary>
/// Times the ways of applying WᵀW for a circular stride-1 convolution W (the conv-opteq map applies it at every solver
/// iteration, docs/math.md §1.7), float32: "convs" (<see cref="GramOperator{T}"/>: a convolution then a transposed
/// convolution over the whole batch), "blocked" (<see cref="BlockedGramOperator{T}"/>: the same over row blocks whose
/// intermediate fits in the per-core cache), "fourier" (<see cref="FourierGramOperator{T}"/> with its spectrum
/// computed), and the Fourier path's once-per-weight-update costs: "fourier-refresh" (the spectrum) and "fourier-norm"
/// (the exact ||W||₂ from it). Medians of single calls after a warm-up; every application is first checked against the
/// float64 reference on two samples.
/// </summary>
public sealed class GramBench(Device device, long cacheBytes)
{
    /// <summary>The methods timed, in order.</summary>
    public static readonly string[] Methods = ["convs", "blocked", "fourier", "fourier-refresh", "fourier-norm"];

    /// <summary>Rows per block of the blocked method for this geometry.</summary>
    public int RowsPerBlock(Conv2dGeometry g) => BlockedGramOperator<float>.RowsThatFit(g.OutputSize, Environment.ProcessorCount, cacheBytes);

    /// <summary>Multiply-adds per sample of one application by <paramref name="method"/> (the two convolutions, or the two DFTs and the products); 0 for the per-update methods.</summary>
    public static double WorkPerSample(Conv2dGeometry g, string method)
    {
        int c = g.InChannels, h = g.Height, w = g.Width, wf = w / 2 + 1;
        return method switch
        {
            "convs" or "blocked" => 2.0 * g.OutputSize * g.WeightColumns,
            // Per DFT: along rows c·h·w·2wf, along columns c·wf·h·h·4 (complex); products h·wf·(2c)²; two DFTs.
            "fourier" => 2 * ((double)c * h * w * 2 * wf + (double)c * wf * h * h * 4) + (double)h * wf * 4 * c * c,
            _ => 0,
        };
    }

    public double Measure(Conv2dGeometry g, string method, int batch, int repetitions, int warmup)
    {
        using var o = new Operands(device, g, batch, seed: 1);
        using var convs = new GramOperator<float>(new Conv2dOperator<float>(g, o.Weight), batch);
        using var blocked = new BlockedGramOperator<float>(new Conv2dOperator<float>(g, o.Weight), batch, RowsPerBlock(g));
        using var fourier = new FourierGramOperator<float>(new Conv2dOperator<float>(g, o.Weight), batch);
        using var norm = device.Allocate<float>(1);
        Action call = method switch
        {
            "convs" => () => convs.Apply(o.Input, o.Output, 0f),
            "blocked" => () => blocked.Apply(o.Input, o.Output, 0f),
            "fourier" => () => fourier.Apply(o.Input, o.Output, 0f),
            "fourier-refresh" => fourier.Refresh,
            "fourier-norm" => () => fourier.OperatorNorm(norm),
            _ => throw new ArgumentException($"unknown method {method}; valid: {string.Join(", ", Methods)}"),
        };
        return CallTiming.MedianMilliseconds(device, call, warmup, repetitions);
    }

    /// <summary>
    /// The three applications on two samples against the float64 Fourier-domain reference (relative to ||W||₂²·||x||), and
    /// the Fourier norm against the float64 reference norm; throws a <see cref="ConvCheckException"/> on a mismatch.
    /// </summary>
    public void Check(Conv2dGeometry g)
    {
        const int batch = 2;
        using var o = new Operands(device, g, batch, seed: 2);
        var expected = ReferenceKernels.CircularGram(g, batch, o.W, o.X);
        double exactNorm = ReferenceKernels.CircularConvNorm(g, o.W);
        double scale = exactNorm * exactNorm * Math.Sqrt(o.X.Sum(v => v * v));
        using var convs = new GramOperator<float>(new Conv2dOperator<float>(g, o.Weight), batch);
        using var blocked = new BlockedGramOperator<float>(new Conv2dOperator<float>(g, o.Weight), batch, 1);
        using var fourier = new FourierGramOperator<float>(new Conv2dOperator<float>(g, o.Weight), batch);
        foreach (var (name, op) in new (string, ILinearOperator<float>)[] { ("convs", convs), ("blocked", blocked), ("fourier", fourier) })
        {
            op.Apply(o.Input, o.Output, 0f);
            var actual = o.Output.ToArray();
            for (int i = 0; i < expected.Length; i++)
                if (!(Math.Abs(actual[i] - expected[i]) <= 1e-4 * scale))
                    throw new ConvCheckException($"WᵀW {g} by {name}: element {i} is {actual[i]:R}, the float64 reference {expected[i]:R}");
        }
        using var norm = device.Allocate<float>(1);
        fourier.OperatorNorm(norm);
        double got = norm.ToArray()[0];
        if (!(Math.Abs(got - exactNorm) <= 1e-4 * exactNorm))
            throw new ConvCheckException($"||W||₂ of {g} from the spectrum is {got:R}, the float64 reference {exactNorm:R}");
    }

    /// <summary>A random kernel scaled as PyTorch's default (1/√fan-in) and a random batch, float32-representable, kept in float64 for the check.</summary>
    private sealed class Operands : IDisposable
    {
        public Operands(Device device, Conv2dGeometry g, int batch, int seed)
        {
            var rng = new Random(seed);
            double[] Random(int n, double scale) => [.. Enumerable.Range(0, n).Select(_ => (double)(float)(scale * (2 * rng.NextDouble() - 1)))];
            X = Random(batch * g.InputSize, 1);
            W = Random(g.OutChannels * g.WeightColumns, 1 / Math.Sqrt(g.WeightColumns));
            Input = device.FromArray(X.Select(v => (float)v).ToArray(), batch, g.InputSize);
            Weight = device.FromArray(W.Select(v => (float)v).ToArray(), g.OutChannels, g.WeightColumns);
            Output = device.Allocate<float>(batch, g.InputSize);
        }

        public double[] X, W;
        public Tensor<float> Input, Weight, Output;

        public void Dispose() { Input.Dispose(); Weight.Dispose(); Output.Dispose(); }
    }
}
