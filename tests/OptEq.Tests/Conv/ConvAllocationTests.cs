using NUnit.Framework;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Training;
using OptEq.Kernels;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Native;
using OptEq.Solvers;
using OptEq.Solvers.Maps;
using OptEq.Solvers.Operators;
using OptEq.Tests.Training;

namespace OptEq.Tests.Conv;

/// <summary>
/// No managed allocation in a solver iteration on the convolutional OptEq map, nor in a replayed conv-opteq training
/// step (as <see cref="Solvers.SolverAllocationTests"/> and <see cref="TrainerAllocationTests"/> for the dense maps).
/// </summary>
[NonParallelizable]
public class ConvAllocationTests
{
    private NativeCpuDevice _device = null!;
    private Tensor<float> _w = null!, _c = null!;
    private OperatorOptEqMap<float> _map = null!;

    [OneTimeSetUp]
    public void Open()
    {
        _device = new NativeCpuDevice();
        var g = new Conv2dGeometry(8, 14, 14, 8, 3, 3, 1, 1, ConvPadding.Zero);
        var rng = new Random(3);
        _w = _device.FromArray(Enumerable.Range(0, 8 * g.WeightColumns).Select(_ => (float)(0.05 * (rng.NextDouble() - 0.5))).ToArray(), 8, g.WeightColumns);
        _c = _device.FromArray(Enumerable.Range(0, 32 * g.InputSize).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray(), 32, g.InputSize);
        _map = new OperatorOptEqMap<float>(Activation.ReLU, new Conv2dOperator<float>(g, _w), _c, 0.9);
    }

    [OneTimeTearDown]
    public void Close()
    {
        _map.Dispose(); _w.Dispose(); _c.Dispose();
        _device.Dispose();
    }

    [TestCase("anderson")]
    [TestCase("picard")]
    [TestCase("fista")]
    [TestCase("forward-backward")]
    public void ForwardSolverIterationsAllocateNothing(string kind)
    {
        using var z0 = _device.Allocate<float>(32, _map.Dimension);
        _device.Fill(z0, 0f);
        long BytesFor(int iterations)
        {
            var options = Exactly(iterations) with { Solver = SolverRegistry.Forward[kind], SplittingStep = 1.0 };
            SolverRegistry.Solve(_map, z0, options).Dispose();
            return SteadyState(() => SolverRegistry.Solve(_map, z0, options).Dispose());
        }
        long ten = BytesFor(10), forty = BytesFor(40);
        Assert.That(forty, Is.EqualTo(ten), $"{kind}: managed bytes of 40 iterations ({forty}) against 10 ({ten})");
    }

    [TestCase("cg")]
    [TestCase("anderson")]
    [TestCase("fixed-point")]
    public void AdjointSolverIterationsAllocateNothing(string kind)
    {
        using var z0 = _device.Allocate<float>(32, _map.Dimension);
        _device.Fill(z0, 0f);
        using var equilibrium = SolverRegistry.Solve(_map, z0, new SolverOptions { Solver = ForwardSolvers.Anderson, MaxIterations = 100, Tolerance = 1e-5 });
        _map.PrepareAdjoint(equilibrium.Solution);
        using var g = _device.Allocate<float>(32, _map.Dimension);
        _device.Fill(g, 0.01f);
        var solver = SolverRegistry.Adjoint[kind];
        long BytesFor(int iterations)
        {
            var options = Exactly(iterations);
            solver.Solve(_map, g, options).Dispose();
            return SteadyState(() => solver.Solve(_map, g, options).Dispose());
        }
        long ten = BytesFor(10), forty = BytesFor(40);
        Assert.That(forty, Is.EqualTo(ten), $"{kind} adjoint: managed bytes of 40 iterations ({forty}) against 10 ({ten})");
    }

    [TestCase(1)]
    [TestCase(32)]
    public void TheConvolutionCallsOfAStepAllocateNothing(int batch)
    {
        var g = new Conv2dGeometry(4, 6, 6, 4, 3, 3, 1, 1, ConvPadding.Zero);
        var p = new Pool2dGeometry(4, 6, 6, 2, 2);
        using var x = _device.Allocate<float>(batch, g.InputSize);
        using var y = _device.Allocate<float>(batch, g.OutputSize);
        using var w = _device.Allocate<float>(4, g.WeightColumns);
        using var b = _device.Allocate<float>(4);
        using var pooled = _device.Allocate<float>(batch, p.OutputSize);
        _device.Fill(x, 0.5f); _device.Fill(w, 0.1f); _device.Fill(b, 0f);
        var calls = new (string Name, Action Run)[]
        {
            ("conv2d", () => _device.Conv2d(g, x, w, b, y)),
            ("backward-input", () => _device.Conv2dBackwardInput(g, y, w, x, 1f)),
            ("backward-weight", () => _device.Conv2dBackwardWeight(g, x, y, w, 1f)),
            ("backward-bias", () => _device.Conv2dBackwardBias(g, y, b, 1f)),
            ("avgpool", () => _device.AvgPool2d(p, y, pooled)),
            ("avgpool-backward", () => _device.AvgPool2dBackward(p, pooled, y, 1f)),
        };
        foreach (var (name, run) in calls)
        {
            run();
            Assert.That(SteadyState(run), Is.Zero, $"{name}, batch {batch}");
        }
    }

    [Test]
    public void AConvOptEqTrainingStepAllocatesNothingAfterWarmUp()
    {
        var options = new TrainingOptions { Epochs = 2, Batch = 32 };
        var train = TrainerTests.Synthetic("train", 16 * options.Batch, 1);
        var test = TrainerTests.Synthetic("test", 60, 2);
        var config = new ModelConfig
        {
            Model = ModelKind.ConvOptEq, Input = train.Pixels, Classes = train.Classes, ForwardMaxIterations = 8, BackwardMaxIterations = 8,
            Conv = new ConvModelOptions { Channels = [4], InjectionStride = 1, Pool = 2 },
        };
        using var model = new Classifier<float>(_device, config);
        using var trainer = new Trainer(_device, model, options, train, test);
        // In rounds of two steps (at most five): a one-time allocation by the runtime passes, one per step fails.
        SteadyStateAllocation.AssertTrainingSteps(trainer, warmUp: 3, stepsPerRound: 2, "managed bytes of two conv-opteq training steps");
    }

    private static SolverOptions Exactly(int iterations) => new() { MaxIterations = iterations, Tolerance = 0, CheckEvery = 5, RecordTrace = false };

    private static long SteadyState(Action action) => Enumerable.Range(0, 3).Min(_ => SteadyStateAllocation.Bytes(action));

}
