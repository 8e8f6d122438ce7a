using System.Diagnostics;
using System.Text.Json;
using OptEq.Autodiff;
using OptEq.Autodiff.Data;
using OptEq.Autodiff.Layers;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Optimizers;
using OptEq.Autodiff.Training;
using OptEq.Kernels;
using OptEq.Kernels.Activations;
using OptEq.Solvers;

namespace OptEq.Cli.Bench;

/// <summary>
/// Whole training steps and epochs. <see cref="Step"/>: one OptEq training step — batch 128, input 784, hidden 512, ReLU,
/// exactly 30 Anderson forward iterations (tolerance 0) and 30 adjoint iterations, linear head, cross-entropy, Adam —
/// timed over repeated steps after warm-up, with the GEMM work it performs counted analytically.
/// <see cref="Epoch"/>: one epoch of the default MNIST model.
/// </summary>
public static class TrainingBench
{
    private static readonly TimeSpan WarmUpTime = TimeSpan.FromSeconds(2);

    public static int Step(string? deviceId, int steps, int peerSteps, bool json)
    {
        const int batch = 128, input = 784, hidden = 512, classes = 10, iterations = 30, memory = 5;
        using var device = DeviceCatalog.Open(deviceId);
        var rng = new Random(0);
        using var x = device.FromArray<float>(Enumerable.Range(0, batch * input).Select(_ => (float)rng.NextDouble()).ToArray(), batch, input);
        using var y = device.FromArray<int>(Enumerable.Range(0, batch).Select(i => i % classes).ToArray(), batch);
        var exact = new SolverOptions { Solver = ForwardSolvers.Anderson, MaxIterations = iterations, Tolerance = 0, Memory = memory, CheckEvery = iterations, RecordTrace = false };
        using var layer = new OptEqLayer<float>(device, "opteq", new OptEqLayerOptions
        {
            Input = input, Hidden = hidden, Activation = Activation.ReLU, Forward = exact,
            Backward = new BackwardOptions { Adjoint = AdjointSolvers.Anderson, AdjointOptions = exact },
        }, rng);
        using var head = new Linear<float>(device, "head", hidden, classes, rng);
        using var optimizer = new Adam<float>(layer.Parameters().Concat(head.Parameters()), new AdamOptions { LearningRate = 1e-3 });
        // The step is recorded once on a replayable tape, then replayed: same kernels, no graph building, no allocation.
        optimizer.ZeroGrad();
        using var tape = Tape<float>.ForReplay(device);
        var loss = Ops.SoftmaxCrossEntropy(head.Forward(layer.Forward(tape.Constant(x))), y, out _);
        tape.Backward(loss);
        optimizer.Step();
        void RunStep()
        {
            optimizer.ZeroGrad();
            tape.Replay(loss);
            optimizer.Step();
        }
        // Warm-up: kernels loaded, pools filled, and the JIT's tier-1 code in place (methods are promoted after 30 calls
        // and a delay; three steps left the first measured ones 30 % slower).
        var warmClock = Stopwatch.StartNew();
        int warmSteps = 0;
        while (warmSteps < 10 || warmClock.Elapsed < WarmUpTime) { RunStep(); warmSteps++; }
        device.Synchronize();
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        int collectionsBefore = GC.CollectionCount(0);
        long start = Stopwatch.GetTimestamp(); // a timestamp, not a Stopwatch object: nothing allocated between the two counts
        for (int i = 0; i < steps; i++) RunStep();
        device.Synchronize();
        double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds / steps;
        // All threads of the process, the runtime's own included (its JIT thread may allocate a little while code tiers up).
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        int collections = GC.CollectionCount(0) - collectionsBefore;
        double gflop = StepGemmFlops(batch, input, hidden, classes, iterations, memory) / 1e9;
        double gflops = gflop / (ms / 1000);
        double sgemm = GemmRate(device, batch, hidden);
        var (peerMs, peerDescription) = peerSteps > 0 ? TorchStepPeer.Measure(peerSteps, Environment.ProcessorCount) : (null, "not run (--peer-steps 0)");
        if (json)
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["bench"] = "step", ["device"] = device.Id, ["ms_per_step"] = Math.Round(ms, 3), ["gemm_gflop"] = Math.Round(gflop, 3),
                ["gflops"] = Math.Round(gflops, 1),
                ["gemm_gflops_same_device"] = Math.Round(sgemm, 1), ["fraction_of_gemm_rate"] = Math.Round(gflops / sgemm, 3), ["steps"] = steps, ["warm_up_steps"] = warmSteps, ["managed_bytes"] = allocated, ["managed_bytes_per_step"] = Math.Round((double)allocated / steps, 1), ["gc_collections"] = collections, ["peer"] = peerDescription,
                ["peer_ms_per_step"] = peerMs is double p ? Math.Round(p, 3) : null!, ["speedup_over_peer"] = peerMs is double q ? Math.Round(q / ms, 2) : null!,
            }));
        else
            Console.WriteLine(
                FormattableString.Invariant($"OptEq training step (batch {batch}, {input} → {hidden}, ReLU, {iterations} Anderson + {iterations} adjoint iterations, Adam) on {device.Id}: ") +
                FormattableString.Invariant($"{ms:F1} ms/step, {gflop:F2} GFLOP of GEMM, {gflops:F1} GFLOP/s (mean of {steps} steps after {warmSteps} warm-up); ") +
                FormattableString.Invariant($"{100 * gflops / sgemm:F0} % of this device's GEMM rate at the step's main shape ({batch}×{hidden}×{hidden}: {sgemm:F1} GFLOP/s, measured now); ") +
                FormattableString.Invariant($"{allocated:N0} managed bytes allocated in the {steps} steps (all threads), {collections} gen-0 collections\n") +
                (peerMs is double peer
                    ? FormattableString.Invariant($"peer: {peer:F1} ms/step ({peerDescription}); OptEq is {peer / ms:F1}× faster")
                    : $"peer: {peerDescription}"));
        return 0;
    }

    /// <summary>The device's float32 GEMM rate at m × n × n (the step's map product, z·Kᵀ), over about one second.</summary>
    private static double GemmRate(Device device, int m, int n)
    {
        using var a = device.Allocate<float>(m, n);
        using var b = device.Allocate<float>(n, n);
        using var c = device.Allocate<float>(m, n);
        device.Fill(a, 0.5f);
        device.Fill(b, 0.25f);
        for (int i = 0; i < 20; i++) device.Gemm(MatrixOp.None, MatrixOp.Transpose, 1f, a, b, 0f, c);
        device.Synchronize();
        int calls = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < 1) { device.Gemm(MatrixOp.None, MatrixOp.Transpose, 1f, a, b, 0f, c); calls++; }
        device.Synchronize();
        return 2.0 * m * n * n * calls / clock.Elapsed.TotalSeconds / 1e9;
    }

    /// <summary>
    /// The GEMM-like multiply-adds ×2 of one step: U·x; W·Wᵀ and its backward; per forward iteration the map (B·d·d),
    /// the new row of the residual Gram matrix (B·m·d: it is updated, not recomputed) and the mix over iterates and
    /// residuals (2·B·m·d); the adjoint solve the same again; and the parameter gradients (dM = uᵀz*, dU = uᵀx, head
    /// forward and backward).
    /// </summary>
    public static double StepGemmFlops(int b, int input, int d, int classes, int iterations, int m)
    {
        double perIteration = (double)b * d * d + (double)b * m * d + 2.0 * b * m * d;
        double forward = (double)b * input * d + (double)d * d * d + iterations * perIteration + (double)b * d * d /* objective-free final map */ + (double)b * d * classes;
        double backward = (double)b * d * classes * 2 + iterations * perIteration + (double)b * d * d /* prepare adjoint */ + (double)d * d * b /* dM */
            + (double)b * input * d * 2 /* dU, dx */ + 2.0 * d * d * d /* M = WᵀW backward */;
        return 2 * (forward + backward);
    }

    public static int Epoch(string? deviceId, string? data, bool json)
    {
        var (train, test) = DatasetLoader.Load(data);
        var (mean, std) = train.PixelStatistics();
        train.Standardize(mean, std);
        test.Standardize(mean, std);
        using var device = DeviceCatalog.Open(deviceId);
        var config = new ModelConfig { Input = train.Pixels, Classes = train.Classes, InputMean = mean, InputStd = std };
        using var model = new Classifier<float>(device, config);
        using var trainer = new Trainer(device, model, new TrainingOptions { Epochs = 2 }, train, test);
        trainer.Run(stopAfterEpoch: e => e == 2); // epoch 1 warms up; epoch 2 is the measurement
        var m = trainer.History[^1];
        double trainSeconds = train.Count / m.SamplesPerSecond;
        if (json)
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["bench"] = "epoch", ["device"] = device.Id, ["model"] = config.Model, ["parameters"] = model.ParameterCount,
                ["seconds"] = Math.Round(trainSeconds, 3), ["seconds_with_eval"] = Math.Round(m.Seconds, 3), ["samples_per_second"] = Math.Round(m.SamplesPerSecond, 1),
            }));
        else
            Console.WriteLine(
                FormattableString.Invariant($"one epoch of the default MNIST model ({config.Model}, {model.ParameterCount:N0} parameters, batch 128, ±2 px shifts) on {device.Id}: ") +
                FormattableString.Invariant($"{trainSeconds:F2} s training ({m.SamplesPerSecond:N0} samples/s), {m.Seconds:F2} s with the test evaluation (epoch 2; epoch 1 warmed up)"));
        return 0;
    }
}
