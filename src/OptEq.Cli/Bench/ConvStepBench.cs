using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using OptEq.Autodiff;
using OptEq.Autodiff.Layers;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Optimizers;
using OptEq.Kernels;
using OptEq.Kernels.Activations;
using OptEq.Solvers;
using OptEq.Solvers.Operators;

namespace OptEq.Cli.Bench;

/// <summary>
/// The shape of one convolutional training step, shared by ours and the PyTorch peer's (bench/peers/torch_conv_step.py
/// gets these values as arguments): batch, image side, channels, kernel, padding, pooling, and the fixed iteration counts
/// (tolerance 0 on both sides, so both do the same work).
/// </summary>
public sealed record ConvStepShape
{
    public required string Model { get; init; }
    public int Batch { get; init; } = 128;
    public int Size { get; init; } = 28;
    public int Channels { get; init; } = 32;
    public int KernelSize { get; init; } = 3;
    public ConvPadding Padding { get; init; } = ConvPadding.Zero;
    public int InjectionStride { get; init; } = 2;
    public int Pool { get; init; } = 2;
    public int Iterations { get; init; } = 20;
    public int AdjointIterations { get; init; } = 20;
    public int Memory { get; init; } = 5;
    /// <summary>conv-opteq: how the solves apply WᵀW (ours only; the peer always runs two convolutions).</summary>
    public GramMethod Gram { get; init; } = GramMethod.Convolutions;

    /// <summary>The peer script's arguments for this shape.</summary>
    public IEnumerable<string> PeerArguments() =>
    [
        "--model", Model, "--batch", Str(Batch), "--size", Str(Size), "--channels", Str(Channels), "--kernel-size", Str(KernelSize),
        "--padding", Padding == ConvPadding.Circular ? "circular" : "zero", "--injection-stride", Str(InjectionStride), "--pool", Str(Pool), "--iterations", Str(Iterations),
        "--adjoint-iterations", Str(AdjointIterations), "--memory", Str(Memory),
    ];

    public override string ToString() => FormattableString.Invariant(
        $"batch {Batch}, {Size}×{Size}, {Channels} channels, {KernelSize}×{KernelSize} {(Padding == ConvPadding.Circular ? "circular" : "zero")} padding, injection stride {InjectionStride}, {Pool}×{Pool} pooling, {Iterations} forward + {AdjointIterations} adjoint iterations{(Model == "conv-opteq" ? $", WᵀW {GramMethods.Name(Gram)}" : "")}");

    private static string Str(int v) => v.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// <c>opteq bench step --model conv-mon | conv-opteq</c>: one training step of a convolutional equilibrium model (input
/// convolution, fixed-iteration forward solve, implicit backward with the same count, 4×4 average pooling, linear head,
/// cross-entropy, Adam) recorded once and replayed, timed per step (median), beside the same step in PyTorch.
/// conv-opteq's WᵀW method is <c>--gram</c> (<see cref="ConvStepShape.Gram"/>), so the methods can be timed one after another.
/// </summary>
public static class ConvStepBench
{
    /// <summary>The model kinds this bench builds (through their recipes, as <c>opteq train</c> does), with the forward solver of each.</summary>
    public static IReadOnlyDictionary<string, IForwardSolver> Models { get; } = new Dictionary<string, IForwardSolver>
    {
        ["conv-opteq"] = ForwardSolvers.Anderson,
        ["conv-mon"] = ForwardSolvers.ForwardBackward,
    };

    /// <summary>The configuration of a shape: its kind's recipe, fixed iteration counts (tolerance 0), Anderson adjoint.</summary>
    public static ModelConfig Config(ConvStepShape s) => new()
    {
        Model = ModelKind.Parse(s.Model), Input = s.Size * s.Size, Classes = 10,
        Conv = new ConvModelOptions { Channels = [s.Channels], KernelSize = s.KernelSize, Padding = s.Padding, InjectionStride = s.InjectionStride, Pool = s.Pool, Gram = s.Gram },
        Solver = Models[s.Model], ForwardMaxIterations = s.Iterations, ForwardTolerance = 0,
        Backward = new BackwardMethod(BackwardMode.Implicit, AdjointSolvers.Anderson), BackwardMaxIterations = s.AdjointIterations, BackwardTolerance = 0,
    };

    /// <summary>Times the step on <paramref name="deviceId"/> and the PyTorch peer's on <paramref name="peerDevice"/> (auto, cpu or cuda: <see cref="Commands.CommonOptions.PeerDeviceFor"/>).</summary>
    public static int Step(string? deviceId, ConvStepShape shape, int steps, int peerSteps, bool json, string peerDevice = "auto")
    {
        if (!Models.ContainsKey(shape.Model))
            throw new ArgumentException($"--model: bench step knows opteq, {string.Join(", ", Models.Keys)}; got '{shape.Model}'");
        if (shape.Model != "conv-opteq" && shape.Gram != GramMethod.Convolutions)
            throw new ArgumentException($"--gram: {shape.Model} applies its operator as it is; the WᵀW method is a conv-opteq setting");
        var config = Config(shape);
        config.Validate();
        using var device = DeviceCatalog.Open(deviceId);
        // What auto becomes here, and what the table names: the method the layer resolves on this device.
        shape = shape with { Gram = config.Spec.Layers.OfType<ConvOptEqSpec>().FirstOrDefault() is { } layer
            ? GramMethods.Resolve<float>(shape.Gram, layer.LayerOptions.HiddenGeometry, device.Kind) : shape.Gram };
        var spec = config.Spec;
        using var model = new Classifier<float>(device, config);
        var rng = new Random(0);
        using var x = device.FromArray<float>(Enumerable.Range(0, shape.Batch * spec.Input).Select(_ => (float)rng.NextDouble()).ToArray(), shape.Batch, spec.Input);
        using var y = device.FromArray<int>(Enumerable.Range(0, shape.Batch).Select(i => i % 10).ToArray(), shape.Batch);
        using var optimizer = new Adam<float>(model.Parameters(), new AdamOptions { LearningRate = 1e-3 });
        optimizer.ZeroGrad();
        using var tape = Tape<float>.ForReplay(device);
        var loss = Ops.SoftmaxCrossEntropy(model.Forward(tape.Constant(x)), y, out _);
        tape.Backward(loss);
        optimizer.Step();
        void RunStep()
        {
            optimizer.ZeroGrad();
            tape.Replay(loss);
            optimizer.Step();
        }
        for (int i = 0; i < 3; i++) RunStep(); // pools filled, kernels loaded, JIT warm
        device.Synchronize();
        var times = new double[steps];
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < steps; i++)
        {
            long start = Stopwatch.GetTimestamp();
            RunStep();
            device.Synchronize();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        double ms = Median(times);
        var (peerMs, peerDescription) = peerSteps > 0 ? TorchStepPeer.MeasureConv(shape, peerSteps, threads: Environment.ProcessorCount, Commands.CommonOptions.PeerDeviceFor(peerDevice, device)) : (null, "not run (--peer-steps 0)");
        if (json)
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["bench"] = "step", ["model"] = shape.Model, ["device"] = device.Id, ["shape"] = shape.ToString(), ["parameters"] = model.ParameterCount,
                ["gram"] = GramMethods.Name(shape.Gram),
                ["ms_per_step"] = Math.Round(ms, 3), ["steps"] = steps, ["managed_bytes_per_step"] = Math.Round((double)allocated / steps, 1),
                ["peer"] = peerDescription, ["peer_ms_per_step"] = peerMs is double p ? Math.Round(p, 3) : null!,
                ["speedup_over_peer"] = peerMs is double q ? Math.Round(q / ms, 2) : null!,
            }));
        else
            Console.WriteLine(
                FormattableString.Invariant($"{shape.Model} training step ({shape}, Adam; {model.ParameterCount:N0} parameters) on {device.Id}: ") +
                FormattableString.Invariant($"{ms:F1} ms/step (median of {steps}), {allocated:N0} managed bytes in the {steps} steps\n") +
                (peerMs is double peer
                    ? FormattableString.Invariant($"peer: {peer:F1} ms/step ({peerDescription}); ours is {peer / ms:F2}× the peer's speed")
                    : $"peer: {peerDescription}"));
        return 0;
    }

    private static double Median(double[] values)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    }
}
