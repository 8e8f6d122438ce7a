using BenchmarkDotNet.Attributes;
using OptEq.Autodiff;
using OptEq.Autodiff.Layers;
using OptEq.Autodiff.Optimizers;
using OptEq.Kernels;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Native;
using OptEq.Solvers;

namespace OptEq.Bench;

/// <summary>
/// The step of <c>opteq bench step</c> under BenchmarkDotNet: batch 128, 784 → 512, ReLU, exactly 30 Anderson forward
/// and 30 Anderson adjoint iterations, linear head, cross-entropy, Adam, recorded on a new tape or replayed from a captured
/// one. The memory column shows what one step allocates (the replayed step: nothing).
/// <code>dotnet run -c Release --project bench/OptEq.Bench -- --filter '*TrainingStep*'</code>
/// </summary>
[MemoryDiagnoser]
public class TrainingStepBenchmarks
{
    private const int Batch = 128, Input = 784, Hidden = 512, Classes = 10, Iterations = 30;
    private NativeCpuDevice _device = null!;
    private Tensor<float> _x = null!;
    private Tensor<int> _y = null!;
    private OptEqLayer<float> _layer = null!;
    private Linear<float> _head = null!;
    private Adam<float> _optimizer = null!;
    private Tape<float> _tape = null!;
    private Variable<float> _loss = null!;

    [GlobalSetup]
    public void Setup()
    {
        _device = new NativeCpuDevice();
        var rng = new Random(0);
        _x = _device.FromArray<float>(Enumerable.Range(0, Batch * Input).Select(_ => (float)rng.NextDouble()).ToArray(), Batch, Input);
        _y = _device.FromArray<int>(Enumerable.Range(0, Batch).Select(i => i % Classes).ToArray(), Batch);
        var exact = new SolverOptions { Solver = ForwardSolvers.Anderson, MaxIterations = Iterations, Tolerance = 0, Memory = 5, CheckEvery = Iterations, RecordTrace = false };
        _layer = new OptEqLayer<float>(_device, "opteq", new OptEqLayerOptions
        {
            Input = Input, Hidden = Hidden, Activation = Activation.ReLU, Forward = exact,
            Backward = new BackwardOptions { Adjoint = AdjointSolvers.Anderson, AdjointOptions = exact },
        }, rng);
        _head = new Linear<float>(_device, "head", Hidden, Classes, rng);
        _optimizer = new Adam<float>(_layer.Parameters().Concat(_head.Parameters()), new AdamOptions { LearningRate = 1e-3 });
        _tape = Tape<float>.ForReplay(_device);
        _loss = Ops.SoftmaxCrossEntropy(_head.Forward(_layer.Forward(_tape.Constant(_x))), _y, out _);
        _tape.Backward(_loss);
    }

    /// <summary>A step recorded on a fresh tape: the graph is built, then run backward.</summary>
    [Benchmark(Baseline = true)]
    public void RecordedStep()
    {
        _optimizer.ZeroGrad();
        using var tape = new Tape<float>(_device);
        var loss = Ops.SoftmaxCrossEntropy(_head.Forward(_layer.Forward(tape.Constant(_x))), _y, out _);
        tape.Backward(loss);
        _optimizer.Step();
    }

    /// <summary>The same step replayed from the tape captured in setup: what a training loop over same-shape batches runs.</summary>
    [Benchmark]
    public void ReplayedStep()
    {
        _optimizer.ZeroGrad();
        _tape.Replay(_loss);
        _optimizer.Step();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _tape.Dispose();
        _optimizer.Dispose();
        _head.Dispose();
        _layer.Dispose();
        _x.Dispose();
        _y.Dispose();
        _device.Dispose();
    }
}
