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
/// No managed allocation in a solver iteration on the conv OptEq map whose WᵀW is cache-blocked or in the Fourier
/// domain, nor in a replayed conv-opteq training step with each method (as <see cref="ConvAllocationTests"/> for two
/// convolutions).
/// </summary>
[NonParallelizable]
public class GramMethodAllocationTests
{
    private NativeCpuDevice _device = null!;
    private Tensor<float> _w = null!, _c = null!;

    [OneTimeSetUp]
    public void Open()
    {
        _device = new NativeCpuDevice();
        var g = Geometry;
        var rng = new Random(3);
        _w = _device.FromArray(Enumerable.Range(0, 8 * g.WeightColumns).Select(_ => (float)(0.05 * (rng.NextDouble() - 0.5))).ToArray(), 8, g.WeightColumns);
        _c = _device.FromArray(Enumerable.Range(0, 32 * g.InputSize).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray(), 32, g.InputSize);
    }

    [OneTimeTearDown]
    public void Close()
    {
        _w.Dispose(); _c.Dispose();
        _device.Dispose();
    }

    private static Conv2dGeometry Geometry => new(8, 14, 14, 8, 3, 3, 1, 1, ConvPadding.Circular);

    private OperatorOptEqMap<float> Map(GramMethod gram)
    {
        // Blocks of 5 rows: 7 blocks for the batch of 32 (the last one short), so blocking really happens.
        var w = new Conv2dOperator<float>(Geometry, _w);
        IGramOperator<float> metric = gram == GramMethod.Blocked ? new BlockedGramOperator<float>(w, 32, 5) : GramMethods.Create(gram, w, 32);
        return OperatorOptEqMap<float>.WithMetric(Activation.ReLU, metric, _c, 0.9);
    }

    [Test]
    public void ForwardSolverIterationsAllocateNothing(
        [Values(GramMethod.Blocked, GramMethod.Fourier)] GramMethod gram, [Values("anderson", "picard", "fista", "forward-backward")] string kind)
    {
        using var map = Map(gram);
        using var z0 = _device.Allocate<float>(32, map.Dimension);
        _device.Fill(z0, 0f);
        long BytesFor(int iterations)
        {
            var options = Exactly(iterations) with { Solver = SolverRegistry.Forward[kind], SplittingStep = 1.0 };
            SolverRegistry.Solve(map, z0, options).Dispose();
            return SteadyState(() => SolverRegistry.Solve(map, z0, options).Dispose());
        }
        long ten = BytesFor(10), forty = BytesFor(40);
        Assert.That(forty, Is.EqualTo(ten), $"{gram} {kind}: managed bytes of 40 iterations ({forty}) against 10 ({ten})");
    }

    [Test]
    public void AdjointSolverIterationsAllocateNothing([Values(GramMethod.Blocked, GramMethod.Fourier)] GramMethod gram, [Values("cg", "anderson", "fixed-point")] string kind)
    {
        using var map = Map(gram);
        using var z0 = _device.Allocate<float>(32, map.Dimension);
        _device.Fill(z0, 0f);
        using var equilibrium = SolverRegistry.Solve(map, z0, new SolverOptions { Solver = ForwardSolvers.Anderson, MaxIterations = 100, Tolerance = 1e-5 });
        map.PrepareAdjoint(equilibrium.Solution);
        using var g = _device.Allocate<float>(32, map.Dimension);
        _device.Fill(g, 0.01f);
        var solver = SolverRegistry.Adjoint[kind];
        long BytesFor(int iterations)
        {
            var options = Exactly(iterations);
            solver.Solve(map, g, options).Dispose();
            return SteadyState(() => solver.Solve(map, g, options).Dispose());
        }
        long ten = BytesFor(10), forty = BytesFor(40);
        Assert.That(forty, Is.EqualTo(ten), $"{gram} {kind} adjoint: managed bytes of 40 iterations ({forty}) against 10 ({ten})");
    }

    [TestCase(GramMethod.Blocked, ConvPadding.Zero)]
    [TestCase(GramMethod.Blocked, ConvPadding.Circular)]
    [TestCase(GramMethod.Fourier, ConvPadding.Circular)]
    public void AConvOptEqTrainingStepAllocatesNothingAfterWarmUp(GramMethod gram, ConvPadding padding)
    {
        var options = new TrainingOptions { Epochs = 2, Batch = 32 };
        var train = TrainerTests.Synthetic("train", 16 * options.Batch, 1);
        var test = TrainerTests.Synthetic("test", 60, 2);
        var config = new ModelConfig
        {
            Model = ModelKind.ConvOptEq, Input = train.Pixels, Classes = train.Classes, ForwardMaxIterations = 8, BackwardMaxIterations = 8,
            Conv = new ConvModelOptions { Channels = [4], InjectionStride = 1, Pool = 2, Padding = padding, Gram = gram },
        };
        using var model = new Classifier<float>(_device, config);
        using var trainer = new Trainer(_device, model, options, train, test);
        // In rounds of two steps (at most five): a one-time allocation by the runtime passes, one per step fails.
        SteadyStateAllocation.AssertTrainingSteps(trainer, warmUp: 3, stepsPerRound: 2, $"managed bytes of two conv-opteq training steps with the {GramMethods.Name(gram)} WᵀW");
    }

    [Test]
    public void ATrainingStepOverSeveralCacheBlocksAllocatesNothingOnceItsRowViewsAreMade()
    {
        // 64 channels of 6×6 (9 KiB a row in float32): 56 rows per block on 2 cores, so the batch of 128 runs in 3 blocks. The blocked
        // operator makes the row views of each tensor it is given once; in a probe the steps' solves still brought tensors
        // not seen before in steps 3 and 4 (432 B each) and none from step 5 on. Five warm-up steps, then none may allocate.
        var options = new TrainingOptions { Epochs = 2, Batch = 128 };
        var train = TrainerTests.Synthetic("train", 16 * options.Batch, 1);
        var test = TrainerTests.Synthetic("test", 60, 2);
        var config = new ModelConfig
        {
            Model = ModelKind.ConvOptEq, Input = train.Pixels, Classes = train.Classes, ForwardMaxIterations = 8, BackwardMaxIterations = 8,
            Conv = new ConvModelOptions { Channels = [64], InjectionStride = 1, Pool = 2, Gram = GramMethod.Blocked },
        };
        using var model = new Classifier<float>(_device, config);
        var hidden = ((OptEq.Autodiff.Layers.ConvOptEqLayer<float>)model.Layers[0]).HiddenGeometry;
        Assume.That(BlockedGramOperator<float>.RowsThatFit(hidden.OutputSize, Environment.ProcessorCount), Is.LessThan(options.Batch), "several blocks (fewer than 5 cores)");
        using var trainer = new Trainer(_device, model, options, train, test);
        // In rounds of two steps (at most five): a one-time allocation by the runtime passes, one per step fails.
        SteadyStateAllocation.AssertTrainingSteps(trainer, warmUp: 5, stepsPerRound: 2, "managed bytes of two conv-opteq training steps with the blocked WᵀW over 3 blocks");
    }

    private static SolverOptions Exactly(int iterations) => new() { MaxIterations = iterations, Tolerance = 0, CheckEvery = 5, RecordTrace = false };

    private static long SteadyState(Action action) => Enumerable.Range(0, 3).Min(_ => SteadyStateAllocation.Bytes(action));
}
