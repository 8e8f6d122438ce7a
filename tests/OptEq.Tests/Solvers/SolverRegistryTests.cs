using System.Text.Json;
using System.Numerics;
using NUnit.Framework;
using OptEq.Kernels;
using OptEq.Autodiff;
using OptEq.Autodiff.Models;
using OptEq.Kernels.Native;
using OptEq.Solvers;

namespace OptEq.Tests.Solvers;

/// <summary>One registry for forward solvers, adjoint solvers and backward modes, open to solvers defined outside the library.</summary>
[NonParallelizable]
public class SolverRegistryTests
{
    /// <summary>A user's forward solver: Picard, counting its solves.</summary>
    private sealed class CountingSolver : IForwardSolver
    {
        public int Solves;
        public string Name => "test-counting-picard";
        public SolverResult<T> Solve<T>(IFixedPointMap<T> map, Tensor<T> z0, SolverOptions options) where T : unmanaged, IFloatingPointIeee754<T>
        {
            Solves++;
            return ForwardSolvers.Picard.Solve(map, z0, options);
        }
    }

    /// <summary>A user's adjoint solver: Anderson on the adjoint map, counting its solves.</summary>
    private sealed class CountingAdjoint : AdjointSolver
    {
        public int Solves;
        public override string Name => "test-counting-adjoint";
        protected override SolverResult<T> Run<T>(IAdjointMap<T> map, Tensor<T> gradient, SolverOptions options, Tensor<T>? w0)
        {
            Solves++;
            return AdjointSolvers.Anderson.Solve(map, gradient, options, w0);
        }
    }

    private static readonly CountingSolver Forward = new();
    private static readonly CountingAdjoint Adjoint = new();

    [OneTimeSetUp]
    public void RegisterOnce()
    {
        if (!SolverRegistry.Forward.Contains(Forward.Name)) SolverRegistry.Register(Forward, "test-counting");
        if (!SolverRegistry.Adjoint.Contains(Adjoint.Name)) SolverRegistry.Register(Adjoint);
    }

    [Test]
    public void AUserSolverIsFoundByNameAndAlias()
    {
        Assert.That(SolverRegistry.Forward["Test-Counting-Picard"], Is.SameAs(Forward));
        Assert.That(SolverRegistry.Forward["test-counting"], Is.SameAs(Forward));
        Assert.That(SolverRegistry.Forward.Names, Does.Contain("test-counting-picard").And.Not.Contain("test-counting"));
        Assert.That(SolverRegistry.Forward.NameOf(Forward), Is.EqualTo("test-counting-picard"));
        Assert.That(() => SolverRegistry.Register(Forward), Throws.ArgumentException.With.Message.Contains("already registered"));
        Assert.That(() => SolverRegistry.Forward.Register("bad name", Forward), Throws.ArgumentException);
    }

    [Test]
    public void UnknownNamesListTheValidOnesInEverySection()
    {
        Assert.That(() => _ = SolverRegistry.Forward["newton"], Throws.ArgumentException.With.Message.Contains("unknown forward solver 'newton'").And.Message.Contains("anderson"));
        Assert.That(() => _ = SolverRegistry.Adjoint["lu"], Throws.ArgumentException.With.Message.Contains("unknown adjoint solver 'lu'").And.Message.Contains("cg"));
        Assert.That(() => BackwardMethod.Parse("exact"), Throws.ArgumentException.With.Message.Contains("unknown backward mode 'exact'")
            .And.Message.Contains("implicit-cg").And.Message.Contains("phantom[:k]").And.Message.Contains("implicit-test-counting-adjoint"));
        Assert.That(() => BackwardMethod.Parse("phantom:x"), Throws.ArgumentException.With.Message.Contains("not an integer"));
        Assert.That(() => BackwardMethod.Parse("jacobian-free:3"), Throws.ArgumentException.With.Message.Contains("takes no parameter"));
    }

    [Test]
    public void BackwardModesParseWithTheirParameters()
    {
        Assert.That(BackwardMethod.Parse("implicit-cg").Adjoint, Is.SameAs(AdjointSolvers.ConjugateGradient));
        Assert.That(BackwardMethod.Parse("implicit-picard").Adjoint, Is.SameAs(AdjointSolvers.FixedPoint));
        Assert.That(BackwardMethod.Parse("implicit", new BackwardMethod(BackwardMode.Implicit, AdjointSolvers.FixedPoint)).Adjoint, Is.SameAs(AdjointSolvers.FixedPoint));
        Assert.That(BackwardMethod.Parse("phantom:5"), Is.EqualTo(new BackwardMethod(BackwardMode.Phantom, steps: 5)));
        Assert.That(BackwardMethod.Parse("unrolled:10").Steps, Is.EqualTo(10));
        Assert.That(BackwardMethod.Parse("jfb").Mode, Is.EqualTo(BackwardMode.JacobianFree));
        Assert.That(new BackwardOptions { Adjoint = AdjointSolvers.ConjugateGradient }.For(AdjointStructure.None).Adjoint, Is.SameAs(AdjointSolvers.Anderson));
        Assert.That(new BackwardOptions { Adjoint = AdjointSolvers.ConjugateGradient }.For(AdjointStructure.Symmetric).Adjoint, Is.SameAs(AdjointSolvers.ConjugateGradient));
    }

    [Test]
    public void SolverOptionsReadAndWriteSolversByName()
    {
        var options = new SolverOptions { Solver = Forward, MaxIterations = 7 };
        var json = JsonSerializer.Serialize(options);
        Assert.That(json, Does.Contain("\"Solver\":\"test-counting-picard\""));
        var back = JsonSerializer.Deserialize<SolverOptions>(json)!;
        Assert.That(back.Solver, Is.SameAs(Forward));
        Assert.That(back, Is.EqualTo(options));
        Assert.That(() => JsonSerializer.Deserialize<SolverOptions>("""{"Solver":"anderson","Memroy":3}"""), Throws.InstanceOf<JsonException>().With.Message.Contains("Memroy"));
    }

    [Test]
    public void AUserSolverIsUsableThroughAModelConfiguration()
    {
        using var device = new NativeCpuDevice();
        // By name in JSON, as a checkpoint or a command line gives it, for the forward solve and the backward mode.
        // Every key must be present (configurations are read strictly): the defaults' JSON, without the spec (which the
        // recipe then makes), with the solvers named.
        var json = System.Text.Json.Nodes.JsonNode.Parse(new ModelConfig { Input = 6, Classes = 3, Hidden = 5, Seed = 1 }.ToJson())!.AsObject();
        json.Remove("spec");
        (json["solver"], json["backward"]) = ("test-counting", "implicit-test-counting-adjoint");
        var config = ModelConfig.FromJson(json.ToJsonString(), "test");
        Assert.That(config.Solver, Is.SameAs(Forward));
        Assert.That(config.Backward.Adjoint, Is.SameAs(Adjoint));
        Assert.That(config.ToJson(), Does.Contain("\"solver\":\"test-counting-picard\"").And.Contain("\"backward\":\"implicit-test-counting-adjoint\""));
        using var model = new Classifier<float>(device, config);
        using var x = device.FromArray<float>(Enumerable.Range(0, 12).Select(i => (float)Math.Sin(i)).ToArray(), 2, 6);
        using var labels = device.FromArray<int>([0, 2], 2);
        int forwardBefore = Forward.Solves, adjointBefore = Adjoint.Solves;
        using (var tape = new Tape<float>(device))
        {
            var loss = Ops.SoftmaxCrossEntropy(model.Forward(tape.Constant(x)), labels, out _);
            tape.Backward(loss);
        }
        Assert.That(Forward.Solves, Is.EqualTo(forwardBefore + 1), "the forward solve ran the user's solver");
        Assert.That(Adjoint.Solves, Is.EqualTo(adjointBefore + 1), "the backward pass ran the user's adjoint solver");
        Assert.That(model.Report.ForwardIterations, Is.GreaterThan(0));
    }

    [Test]
    public void AnAdjointSolverThatNeedsASymmetricMapSaysSo()
    {
        using var device = new NativeCpuDevice();
        using var k = device.Allocate<double>(3, 3);
        using var c = device.Allocate<double>(2, 3);
        using var map = new OptEq.Solvers.Maps.AffineActivationMap<double>(OptEq.Kernels.Activations.Activation.ReLU, k, c);
        using var g = device.Allocate<double>(2, 3);
        Assert.That(AdjointSolvers.ConjugateGradient.Requires, Is.EqualTo(AdjointStructure.Symmetric));
        Assert.That(() => SolverRegistry.Adjoint["conjugate-gradient"].Solve(map, g, new SolverOptions()), Throws.ArgumentException.With.Message.Contains("symmetric"));
    }
}
