using NUnit.Framework;
using OptEq.Autodiff;
using OptEq.Autodiff.Checkpoints;
using OptEq.Autodiff.Models;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Native;
using OptEq.Solvers;

namespace OptEq.Tests.Models;

/// <summary>Configurations hold typed values, read and written as readable JSON; checkpoints store the spec and old ones still load.</summary>
public class ModelConfigTests
{
    /// <summary>A configuration exactly as the code before typed configurations wrote it (PascalCase, strings, no spec).</summary>
    private const string OldJson =
        """{"Model":"deep-opteq","Input":36,"Classes":3,"Hidden":10,"Tiers":[4,3,3],"Activation":"leaky-relu:0.1","Gamma":0.9,"Norm":"spectral","Solver":"broyden","ForwardMaxIterations":25,"ForwardTolerance":0.0005,"Backward":"phantom:7","BackwardMaxIterations":12,"BackwardTolerance":0.002,"InputMean":0.13,"InputStd":0.31,"Seed":4}""";

    [Test]
    public void AnOldConfigurationReadsIntoTypedValues()
    {
        var config = ModelConfig.FromJson(OldJson, "old");
        Assert.That(config.Model, Is.SameAs(ModelKind.DeepOptEq));
        Assert.That(config.Tiers, Is.EqualTo(new[] { 4, 3, 3 }));
        Assert.That(config.Activation, Is.EqualTo(Activation.LeakyReLU(0.1)));
        Assert.That(config.Norm, Is.EqualTo(NormKind.Spectral));
        Assert.That(config.Solver, Is.SameAs(ForwardSolvers.Broyden));
        Assert.That(config.Backward.Mode, Is.EqualTo(BackwardMode.Phantom));
        Assert.That(config.Backward.Steps, Is.EqualTo(7));
        Assert.That((config.ForwardMaxIterations, config.ForwardTolerance, config.BackwardMaxIterations, config.BackwardTolerance), Is.EqualTo((25, 0.0005, 12, 0.002)));
        Assert.That((config.InputMean, config.InputStd, config.Seed), Is.EqualTo((0.13, 0.31, 4)));
        Assert.That(config.HasExplicitSpec, Is.False, "an old configuration has no spec: the recipe makes it");
        var deep = (DeepOptEqSpec)config.Spec.Layers[0];
        Assert.That((deep.Name, deep.Norm, deep.Forward.Solver, deep.Backward.Method.ToString()), Is.EqualTo(("deep", NormKind.Spectral, ForwardSolvers.Broyden, "phantom:7")));
    }

    [Test]
    public void TheJsonIsReadableAndRoundTrips()
    {
        var config = new ModelConfig
        {
            Model = ModelKind.OptEq, Input = 36, Classes = 3, Hidden = 10, Activation = Activation.LeakyReLU(0.1), Solver = ForwardSolvers.PeacemanRachford,
            Backward = BackwardMethod.Parse("unrolled:10"), Seed = 3,
        };
        var json = config.ToJson();
        Assert.That(json, Does.Contain("\"model\":\"opteq\"").And.Contain("\"activation\":\"leaky-relu:0.1\"").And.Contain("\"solver\":\"peaceman-rachford\"")
            .And.Contain("\"backward\":\"unrolled:10\"").And.Contain("\"norm\":\"frobenius\"").And.Contain("\"layer\":\"opteq\"").And.Contain("\"adjoint\":\"anderson\""));
        var back = ModelConfig.FromJson(json, "test");
        Assert.That(back, Is.EqualTo(config));
        Assert.That(back.Backward, Is.EqualTo(config.Backward));
        Assert.That(BackwardMethod.Parse("implicit-cg").ToString(), Is.EqualTo("implicit-cg"));
        Assert.That(BackwardMethod.Parse("jfb").ToString(), Is.EqualTo("jacobian-free"));
    }

    [TestCase("""{"Model":"opteq","Hiden":10}""", "Hiden")]
    [TestCase("""{"model":"opteq","spec":{"input":784,"layers":[{"layer":"linear","name":"head","output":10,"bais":false}]}}""", "bais")]
    [TestCase("""{"model":"custom","input":36,"classes":3,"spec":{"input":36,"layers":[{"layer":"opteq","name":"e","hidden":3,"forward":{"maxIteration":3}}]}}""", "maxIteration")]
    public void AnUnknownKeyIsAnErrorNamingIt(string json, string key)
        => Assert.That(() => ModelConfig.FromJson(json, "cfg.json"), Throws.TypeOf<InputException>().With.Message.Contains(key).And.Message.Contains("cfg.json"));

    /// <summary>A layer whose "layer" key is missing or misspelt (the fuzzer's "layEr"): the serializer's NotSupportedException becomes an input error.</summary>
    [TestCase("""{"model":"opteq","spec":{"input":784,"layers":[{"layEr":"linear","name":"head","output":10,"bias":false}]}}""")]
    [TestCase("""{"model":"opteq","spec":{"input":784,"layers":[{"name":"head","output":10,"bias":false}]}}""")]
    public void ALayerWithoutItsKindIsAnErrorNamingTheKey(string json)
        => Assert.That(() => ModelConfig.FromJson(json, "cfg.json"), Throws.TypeOf<InputException>().With.Message.Contains("\"layer\" key").And.Message.Contains("cfg.json"));

    [TestCase("""{"Model":"transformer"}""", "deep-opteq")]
    [TestCase("""{"Solver":"newton"}""", "anderson")]
    [TestCase("""{"Backward":"implicit-lu"}""", "implicit-cg")]
    [TestCase("""{"Activation":"swish"}""", "relu")]
    public void AnUnknownNameListsTheValidOnes(string json, string valid)
        => Assert.That(() => ModelConfig.FromJson(json, "cfg.json"), Throws.TypeOf<InputException>().With.Message.Contains(valid));

    [Test]
    public void ACheckpointStoresTheSpecAndAnOldOneStillLoads()
    {
        string dir = Directory.CreateTempSubdirectory("opteq-spec-").FullName;
        try
        {
            using var device = new NativeCpuDevice();
            var config = ModelConfig.FromJson(OldJson, "old");
            using var model = new Classifier<float>(device, config);
            // Fingerprints of first forward passes only: the spectral norm's power iteration advances with every forward.
            var expected = ModelSpecTests.Fingerprint(device, model);
            // As the code before specs wrote it: the old JSON string, then the parameters.
            var old = new Checkpoint(OldJson);
            old.AddParameters(model.Parameters());
            string oldPath = Path.Combine(dir, "old.safetensors");
            old.Save(oldPath);
            using (var loaded = ModelCheckpoint.Load(device, oldPath))
                Assert.That(ModelSpecTests.Fingerprint(device, loaded), Is.EqualTo(expected));

            var current = new Checkpoint(model.Config.ToJson());
            current.AddParameters(model.Parameters());
            string newPath = Path.Combine(dir, "new.safetensors");
            current.Save(newPath);
            var stored = Checkpoint.Load(newPath).Config;
            Assert.That(stored, Does.Contain("\"spec\":{").And.Contain("\"layer\":\"deep-opteq\""));
            using var reloaded = ModelCheckpoint.Load(device, newPath);
            Assert.That(reloaded.Config.HasExplicitSpec, Is.True);
            Assert.That(reloaded.Spec, Is.EqualTo(model.Spec));
            Assert.That(ModelSpecTests.Fingerprint(device, reloaded), Is.EqualTo(expected));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
