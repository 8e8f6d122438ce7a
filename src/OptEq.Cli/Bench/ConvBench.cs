using OptEq.Kernels;
using OptEq.Kernels.Reference;

namespace OptEq.Cli.Bench;

/// <summary>A pass of a benchmark shape that disagrees with the float64 reference: nothing is timed.</summary>
public sealed class ConvCheckException(string message) : Exception(message);

/// <summary>
/// Times the convolution and pooling passes of <c>opteq bench conv</c> on a device (float32): the median of single-call
/// times after a warm-up. Before timing a shape, <see cref="Check"/> compares every pass on two samples with the reference.
/// </summary>
public sealed class ConvBench(Device device)
{
    public Device Device => device;

    /// <summary>Milliseconds of each timed call of <paramref name="pass"/> on a batch of <paramref name="batch"/> (<see cref="CallTiming.Milliseconds"/>).</summary>
    public double[] Time(ConvCase shape, string pass, int batch, int repetitions, int warmup, double maxSeconds = 5)
    {
        using var operands = new Operands(device, shape, batch, seed: 1);
        Action call = Call(shape, pass, operands);
        return CallTiming.Milliseconds(device, call, warmup, repetitions, maxSeconds);
    }

    /// <summary>
    /// Runs every pass of <paramref name="shape"/>, untimed, for at least <paramref name="seconds"/> and at least
    /// <paramref name="calls"/> calls of each pass (or until <paramref name="maxSeconds"/>, for slow backends). The first
    /// calls of a code path run slower: .NET compiles a method at a lower tier first and recompiles it optimised only after
    /// about 30 calls, in the background; a path first reached by the timed calls of a shape (1x28x28->32 at stride 2
    /// runs im2col, which the shapes before it do not) measured 1.3 ms instead of 0.6 ms for that reason. Training calls
    /// every kernel thousands of times, so the steady state is what the benchmark reports.
    /// </summary>
    public void WarmUp(ConvCase shape, int batch, double seconds, int calls = 40, double maxSeconds = 5)
    {
        using var operands = new Operands(device, shape, batch, seed: 3);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int n = 0; clock.Elapsed.TotalSeconds < seconds || (n < calls && clock.Elapsed.TotalSeconds < maxSeconds); n++)
        {
            foreach (var pass in shape.Passes) Call(shape, pass, operands)();
            device.Synchronize();
        }
    }

    /// <summary>Every pass of the shape on two samples against the float64 reference (relative to the magnitude of each result).</summary>
    public void Check(ConvCase shape)
    {
        const int batch = 2;
        using var o = new Operands(device, shape, batch, seed: 2);
        foreach (var pass in shape.Passes)
        {
            Call(shape, pass, o)();
            var (actual, expected, scale) = shape.Conv is { } g ? pass switch
            {
                "forward" => (o.Output.ToArray(), ReferenceKernels.Conv2d(g, batch, o.X, o.W, o.B), ReferenceKernels.Conv2d(g, batch, Abs(o.X), Abs(o.W), Abs(o.B))),
                "backward-input" => (o.GradInput.ToArray(), ReferenceKernels.Conv2dBackwardInput(g, batch, o.GY, o.W), ReferenceKernels.Conv2dBackwardInput(g, batch, Abs(o.GY), Abs(o.W))),
                _ => (o.GradWeight!.ToArray(), ReferenceKernels.Conv2dBackwardWeight(g, batch, o.X, o.GY), ReferenceKernels.Conv2dBackwardWeight(g, batch, Abs(o.X), Abs(o.GY))),
            } : pass switch
            {
                "forward" => (o.Output.ToArray(), ReferenceKernels.AvgPool2d(shape.Pool!.Value, batch, o.X), ReferenceKernels.AvgPool2d(shape.Pool!.Value, batch, Abs(o.X))),
                _ => (o.GradInput.ToArray(), ReferenceKernels.AvgPool2dBackward(shape.Pool!.Value, batch, o.GY), ReferenceKernels.AvgPool2dBackward(shape.Pool!.Value, batch, Abs(o.GY))),
            };
            for (int i = 0; i < expected.Length; i++)
                if (!(Math.Abs(actual[i] - expected[i]) <= 1e-4 * scale[i] + 1e-30))
                    throw new ConvCheckException($"{shape.Name} {pass}: element {i} is {actual[i]:R}, the float64 reference {expected[i]:R}");
        }
    }

    private Action Call(ConvCase shape, string pass, Operands o)
    {
        if (shape.Conv is { } g)
            return pass switch
            {
                "forward" => () => device.Conv2d(g, o.Input, o.Weight!, o.Bias, o.Output),
                "backward-input" => () => device.Conv2dBackwardInput(g, o.GradOutput, o.Weight!, o.GradInput),
                "backward-weight" => () => device.Conv2dBackwardWeight(g, o.Input, o.GradOutput, o.GradWeight!),
                _ => throw new ArgumentException($"unknown pass {pass}"),
            };
        var p = shape.Pool!.Value;
        return pass switch
        {
            "forward" => () => device.AvgPool2d(p, o.Input, o.Output),
            "backward" => () => device.AvgPool2dBackward(p, o.GradOutput, o.GradInput),
            _ => throw new ArgumentException($"unknown pass {pass}"),
        };
    }

    private static double[] Abs(double[] x) => [.. x.Select(Math.Abs)];

    /// <summary>The tensors of one shape and batch, with random float32-representable values kept as float64 for the check.</summary>
    private sealed class Operands : IDisposable
    {
        public Operands(Device device, ConvCase shape, int batch, int seed)
        {
            int inSize = shape.Conv?.InputSize ?? shape.Pool!.Value.InputSize, outSize = shape.Conv?.OutputSize ?? shape.Pool!.Value.OutputSize;
            var rng = new Random(seed);
            double[] Random(int n, double scale) => [.. Enumerable.Range(0, n).Select(_ => (double)(float)(scale * (2 * rng.NextDouble() - 1)))];
            X = Random(batch * inSize, 1);
            GY = Random(batch * outSize, 1);
            Input = device.FromArray(X.Select(v => (float)v).ToArray(), batch, inSize);
            GradOutput = device.FromArray(GY.Select(v => (float)v).ToArray(), batch, outSize);
            Output = device.Allocate<float>(batch, outSize);
            GradInput = device.Allocate<float>(batch, inSize);
            if (shape.Conv is { } g)
            {
                W = Random(g.OutChannels * g.WeightColumns, 1 / Math.Sqrt(g.WeightColumns));
                B = Random(g.OutChannels, 0.1);
                Weight = device.FromArray(W.Select(v => (float)v).ToArray(), g.OutChannels, g.WeightColumns);
                Bias = device.FromArray(B.Select(v => (float)v).ToArray(), g.OutChannels);
                GradWeight = device.Allocate<float>(g.OutChannels, g.WeightColumns);
            }
        }

        public double[] X, GY, W = [], B = [];
        public Tensor<float> Input, GradOutput, Output, GradInput;
        public Tensor<float>? Weight, Bias, GradWeight;

        public void Dispose()
        {
            Input.Dispose(); GradOutput.Dispose(); Output.Dispose(); GradInput.Dispose();
            Weight?.Dispose(); Bias?.Dispose(); GradWeight?.Dispose();
        }
    }
}
