using System.Numerics;
using NUnit.Framework;
using OptEq.Kernels;
using OptEq.Autodiff;
using OptEq.Autodiff.Layers;
using OptEq.Autodiff.Models;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Native;
using OptEq.Solvers;

namespace OptEq.Tests.Models;

/// <summary>Models are compositions of layers built from a spec; the five recipes build exactly the models they built before.</summary>
public class ModelSpecTests
{
    private static ModelConfig Small(ModelKind kind) => new() { Model = kind, Input = 36, Classes = 3, Hidden = 10, Seed = 5 };

    /// <summary>
    /// Parameter names and shapes, an FNV-1a hash of the initial parameters' bits and of the logits of a fixed batch, as
    /// the code before models became specs (a string switch in Classifier) computed them: same seed, same model, bit for bit.
    /// The logits hashes were re-recorded at the scalar vector width when the native backend gained its 256- and 128-bit
    /// paths (the specs had been checked against the old hashes before). opteq-spectral's was re-recorded when tanh came to
    /// be computed from exp (docs/gpu.md): its logits moved by at most 3.1e-6, the forward solver's stopping point moving
    /// with tanh's last bits; with the old tanh restored the old hash held.
    /// </summary>
    private static IEnumerable<TestCaseData> Recorded()
    {
        yield return new TestCaseData(Small(ModelKind.OptEq), "opteq.V[10x10],opteq.U[10x36],opteq.b[10],head.weight[3x10],head.bias[3]", 0xD488CEF7C51A27B6UL, 0x80CFCC66E868B8B8UL).SetName("opteq");
        yield return new TestCaseData(Small(ModelKind.OptEq) with { Norm = NormKind.Spectral, Activation = Activation.Tanh }, "opteq.V[10x10],opteq.U[10x36],opteq.b[10],head.weight[3x10],head.bias[3]", 0x39E17C7C335D334FUL, 0x50211E540D417785UL).SetName("opteq-spectral");
        yield return new TestCaseData(Small(ModelKind.DeepOptEq) with { Tiers = [4, 3, 3] }, "deep.A0[4x4],deep.A1[3x3],deep.A2[3x3],deep.B0[3x4],deep.B1[3x3],deep.U[4x36],deep.b[10],head.weight[3x3],head.bias[3]", 0x1DBD68598AA626B7UL, 0x9BA276F95F672A51UL).SetName("deep-opteq");
        yield return new TestCaseData(Small(ModelKind.Idl), "idl.A[10x10],idl.B[10x36],idl.b[10],idl.C[3x10],idl.D[3x36],idl.e[3]", 0x99AD918752384CE5UL, 0xD46442D313A18F8EUL).SetName("idl");
        yield return new TestCaseData(Small(ModelKind.Mon) with { Solver = ForwardSolvers.PeacemanRachford }, "mon.A[10x10],mon.B[10x10],mon.U[10x36],mon.b[10],head.weight[3x10],head.bias[3]", 0x50B99309708F0237UL, 0xC7ABE6D80A3DCF22UL).SetName("mon");
        yield return new TestCaseData(Small(ModelKind.Deq), "deq.W[10x10],deq.U[10x36],deq.b[10],head.weight[3x10],head.bias[3]", 0xD488CEF7C51A27B6UL, 0x785CB10C3028CE54UL).SetName("deq");
        yield return new TestCaseData(new ModelConfig(), "opteq.V[95x95],opteq.U[95x784],opteq.b[95],head.weight[10x95],head.bias[10]", 0xD84E1246226BCA5EUL, 0x82C7E006802533DAUL).SetName("default");
    }

    [TestCaseSource(nameof(Recorded)), NonParallelizable]
    public void RecipesBuildTheModelsTheyBuiltBefore(ModelConfig config, string names, ulong parameters, ulong logits)
    {
        // Logits are bit-exact only for one kernel path: the scalar width runs the same IEEE operations on every CPU
        // (a vector width changes summation order and FMA use). Recorded at the scalar width.
        SimdWidth.Override = VectorWidth.Scalar;
        (string, ulong, ulong) fingerprint;
        try
        {
            using var device = new NativeCpuDevice();
            using var model = new Classifier<float>(device, config);
            fingerprint = Fingerprint(device, model);
        }
        finally
        {
            SimdWidth.Override = null;
        }
        var (actualNames, actualParameters, actualLogits) = fingerprint;
        Assert.That(actualNames, Is.EqualTo(names));
        Assert.That(actualParameters, Is.EqualTo(parameters), "initial parameters");
        Assert.That(actualLogits, Is.EqualTo(logits), "logits of a fixed batch");
    }

    [Test]
    public void RecipesRebuiltFromTheirJsonAreTheSameModel()
    {
        using var device = new NativeCpuDevice();
        foreach (TestCaseData data in Recorded())
        {
            var config = (ModelConfig)data.Arguments[0]!;
            var loaded = ModelConfig.FromJson(config.ToJson(), "test");
            Assert.That(loaded.HasExplicitSpec, Is.True, "the JSON carries the spec");
            Assert.That(loaded.ToJson(), Is.EqualTo(config.ToJson()));
            using var a = new Classifier<float>(device, config);
            using var b = new Classifier<float>(device, loaded);
            Assert.That(Fingerprint(device, b), Is.EqualTo(Fingerprint(device, a)), config.Model.Name);
        }
    }

    [Test]
    public void MlpIsLinearAndActivationPerWidthThenTheHead()
    {
        using var device = new NativeCpuDevice();
        var config = Small(ModelKind.Mlp) with { Layers = [8, 6], Activation = Activation.Tanh };
        var spec = config.Spec;
        Assert.That(spec.Layers.Select(l => l.GetType().Name), Is.EqualTo(new[] { "LinearSpec", "ActivationSpec", "LinearSpec", "ActivationSpec", "LinearSpec" }));
        using var model = new Classifier<float>(device, config);
        Assert.That(model.Parameters().Select(p => $"{p.Name}[{string.Join("x", p.Shape)}]"),
            Is.EqualTo(new[] { "mlp.0.weight[8x36]", "mlp.0.bias[8]", "mlp.1.weight[6x8]", "mlp.1.bias[6]", "head.weight[3x6]", "head.bias[3]" }));
        Assert.That(model.SupportsReplay, Is.True);
        Assert.That(model.Report.ForwardNonFinite, Is.Zero);

        // The explicit network by hand: tanh(tanh(x·W0ᵀ + b0)·W1ᵀ + b1)·W2ᵀ + b2.
        var p = model.Parameters().Select(q => q.Value.ToArray()).ToArray();
        var x = Enumerable.Range(0, 2 * 36).Select(i => (float)Math.Sin(0.3 * i)).ToArray();
        using var input = device.FromArray<float>(x, 2, 36);
        using var tape = Tape<float>.NoGrad(device);
        var logits = model.Forward(tape.Constant(input)).Value.ToArray();
        double[] Dense(double[] v, float[] w, float[] b, int n, int m, bool act)
            => Enumerable.Range(0, n).Select(o => { double s = b[o]; for (int k = 0; k < m; k++) s += w[o * m + k] * v[k]; return act ? Math.Tanh(s) : s; }).ToArray();
        for (int s = 0; s < 2; s++)
        {
            var v = x.Skip(s * 36).Take(36).Select(f => (double)f).ToArray();
            var y = Dense(Dense(Dense(v, p[0], p[1], 8, 36, true), p[2], p[3], 6, 8, true), p[4], p[5], 3, 6, false);
            for (int c = 0; c < 3; c++) Assert.That(logits[s * 3 + c], Is.EqualTo(y[c]).Within(1e-5), $"sample {s} class {c}");
        }
    }

    [Test]
    public void ACustomSpecComposesLayersOfEveryKind()
    {
        using var device = new NativeCpuDevice();
        var spec = new ModelSpec
        {
            Input = 36,
            Layers =
            [
                new LinearSpec { Name = "in", Output = 12 },
                new ActivationSpec { Activation = Activation.LeakyReLU(0.1) },
                new OptEqSpec { Name = "eq", Hidden = 10, Backward = new BackwardOptions { Adjoint = AdjointSolvers.ConjugateGradient } },
                new MonotoneSpec { Name = "mon", Hidden = 8, Forward = new SolverOptions { Solver = ForwardSolvers.PeacemanRachford } },
                new LinearSpec { Name = "head", Output = 3 },
            ],
        };
        var config = new ModelConfig { Model = ModelKind.Custom, Input = 36, Classes = 3, Spec = spec };
        using var model = new Classifier<float>(device, config);
        Assert.That(model.Layers, Has.Count.EqualTo(5));
        Assert.That(model.Layers[2], Is.TypeOf<OptEqLayer<float>>());
        var loaded = ModelConfig.FromJson(config.ToJson(), "test");
        Assert.That(loaded.Spec, Is.EqualTo(spec));
        using var again = new Classifier<float>(device, loaded);
        Assert.That(Fingerprint(device, again), Is.EqualTo(Fingerprint(device, model)));

        // A step through the composition: every parameter receives a gradient.
        using var input = device.FromArray<float>(Enumerable.Range(0, 4 * 36).Select(i => (float)Math.Cos(i)).ToArray(), 4, 36);
        using var labels = device.FromArray<int>([0, 1, 2, 1], 4);
        using var tape = new Tape<float>(device);
        var loss = Ops.SoftmaxCrossEntropy(model.Forward(tape.Constant(input)), labels, out _);
        tape.Backward(loss);
        foreach (var p in model.Parameters()) Assert.That(p.Grad, Is.Not.Null, p.Name);
    }

    [Test]
    public void InconsistentSpecsAreClearErrors()
    {
        var spec = new ModelSpec { Input = 36, Layers = [new LinearSpec { Name = "head", Output = 4 }] };
        Assert.That(() => new ModelConfig { Model = ModelKind.Custom, Input = 36, Classes = 3, Spec = spec }.Validate(),
            Throws.ArgumentException.With.Message.Contains("4 outputs").And.Message.Contains("3 classes"));
        Assert.That(() => new ModelConfig { Model = ModelKind.Custom }.Validate(), Throws.ArgumentException.With.Message.Contains("spec"));
        var twice = new ModelSpec { Input = 36, Layers = [new LinearSpec { Name = "a", Output = 3 }, new LinearSpec { Name = "a", Output = 3 }] };
        Assert.That(() => twice.Validate(), Throws.ArgumentException.With.Message.Contains("'a'"));
        Assert.That(() => ModelKind.Parse("transformer"), Throws.ArgumentException.With.Message.Contains("unknown model 'transformer'").And.Message.Contains("mlp"));
    }

    [Test]
    public void RecipesGiveLayersWithoutASymmetricAdjointAnAdjointTheyCanUse()
    {
        var cg = new BackwardMethod(BackwardMode.Implicit, AdjointSolvers.ConjugateGradient);
        foreach (var kind in new[] { ModelKind.Idl, ModelKind.Mon, ModelKind.Deq })
        {
            var layer = (EquilibriumLayerSpec)(Small(kind) with { Backward = cg }).Spec.Layers[0];
            Assert.That(layer.Backward.Adjoint, Is.SameAs(AdjointSolvers.Anderson), kind.Name);
        }
        var opteq = (EquilibriumLayerSpec)(Small(ModelKind.OptEq) with { Backward = cg }).Spec.Layers[0];
        Assert.That(opteq.Backward.Adjoint, Is.SameAs(AdjointSolvers.ConjugateGradient));
    }

    internal static (string Names, ulong Parameters, ulong Logits) Fingerprint(Device device, Classifier<float> model)
    {
        var names = string.Join(",", model.Parameters().Select(p => p.Name + "[" + string.Join("x", p.Shape) + "]"));
        ulong h = 14695981039346656037UL;
        foreach (var p in model.Parameters())
            foreach (var v in p.Value.ToArray()) { h ^= (uint)BitConverter.SingleToInt32Bits(v); h *= 1099511628211UL; }
        int input = model.Spec.Input;
        var x = new float[4 * input];
        for (int i = 0; i < x.Length; i++) x[i] = (float)Math.Sin(0.37 * i);
        using var batch = device.FromArray<float>(x, 4, input);
        using var tape = Tape<float>.NoGrad(device);
        var logits = model.Forward(tape.Constant(batch)).Value.ToArray();
        ulong g = 14695981039346656037UL;
        foreach (var v in logits) { g ^= (uint)BitConverter.SingleToInt32Bits(v); g *= 1099511628211UL; }
        return (names, h, g);
    }
}
