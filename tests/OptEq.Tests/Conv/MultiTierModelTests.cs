using NUnit.Framework;
using OptEq.Autodiff.Checkpoints;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Training;
using OptEq.Kernels;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Native;
using OptEq.Solvers;
using OptEq.Solvers.Maps;
using OptEq.Solvers.Operators;
using OptEq.Tests.Models;
using OptEq.Tests.Training;

using static OptEq.Tests.Training.InProcessCli;

namespace OptEq.Tests.Conv;

/// <summary>
/// The multitier-opteq model kind: recipe and parameter count, JSON and checkpoint round trips, no allocation in its
/// solver iterations or a replayed training step, and <c>opteq train</c> end to end.
/// </summary>
[NonParallelizable]
public class MultiTierModelTests
{
    private static ModelConfig Config => new()
    {
        Model = ModelKind.MultiTierOptEq, Input = 64, Classes = 10, Seed = 3,
        Conv = new ConvModelOptions { Channels = [2, 3], KernelSize = 3, Padding = ConvPadding.Circular, InjectionStride = 1, Pool = 2 },
    };

    [Test]
    public void TheRecipeIsAMultiTierLayerPoolingOfTheLastTierAndAHead()
    {
        var spec = Config.Spec;
        Assert.That(spec.Layers.Select(l => l.GetType().Name), Is.EqualTo(new[] { "MultiTierOptEqSpec", "AvgPool2dSpec", "LinearSpec" }));
        var layer = (MultiTierOptEqSpec)spec.Layers[0];
        Assert.That(layer.OutputSize(64), Is.EqualTo(3 * 4 * 4), "the last tier: 3×4×4 (tier 1 at 8×8)");
        Assert.That(spec.Layers[1].OutputSize(48), Is.EqualTo(3 * 2 * 2));
        using var device = new NativeCpuDevice();
        using var model = new Classifier<float>(device, Config);
        // D1 2×18, D2 3×27, S2 3×18, U 2×9, b 2 + 3, head 10×12 + 10.
        Assert.That(model.ParameterCount, Is.EqualTo(2 * 18 + 3 * 27 + 3 * 18 + 2 * 9 + 5 + 10 * 12 + 10));
    }

    [Test]
    public void AHeadOnTheLastTwoTiersReadsTheirStateColumnsInOrder()
    {
        // Tiers 2×8×8, 3×4×4, 2×2×2 (stride-1 injection on the 8×8 digits): the head reads tiers 2 and 3, 48 + 8 features.
        var config = Config with { Conv = Config.Conv! with { Channels = [2, 3, 2], Pool = 1, HeadTiers = 2 } };
        var spec = config.Spec;
        Assert.That(spec.Layers.Select(l => l.GetType().Name), Is.EqualTo(new[] { "MultiTierOptEqSpec", "LinearSpec" }));
        Assert.That(spec.Layers[0].OutputSize(64), Is.EqualTo(3 * 4 * 4 + 2 * 2 * 2));
        using var device = new NativeCpuDevice();
        using var model = new Classifier<float>(device, config);
        // D1 2×18, D2 3×27, D3 2×18, S2 3×18, S3 2×27, U 2×9, b 2 + 3 + 2, head 10×56 + 10.
        Assert.That(model.ParameterCount, Is.EqualTo(2 * 18 + 3 * 27 + 2 * 18 + 3 * 18 + 2 * 27 + 2 * 9 + 7 + 10 * 56 + 10));
        var layer = (OptEq.Autodiff.Layers.MultiTierOptEqLayer<float>)model.Layers[0];
        var rng = new Random(5);
        using var images = device.FromArray(Enumerable.Range(0, 3 * 64).Select(_ => (float)rng.NextDouble()).ToArray(), 3, 64);
        using var tape = new OptEq.Autodiff.Tape<float>(device);
        var output = layer.Forward(tape.Constant(images));
        var state = layer.State!.Value.ToArray();
        var read = output.Value.ToArray();
        int start = layer.Tiers.Starts[1], width = layer.StateSize;
        Assert.That(output.Shape, Is.EqualTo(new[] { 3, 56 }));
        for (int n = 0; n < 3; n++)
            Assert.That(read.AsSpan(n * 56, 56).ToArray(), Is.EqualTo(state.AsSpan(n * width + start, 56).ToArray()), $"sample {n}: the last two tiers of z*");
        Assert.That(() => (config with { Conv = config.Conv! with { Pool = 2 } }).Spec, Throws.ArgumentException.With.Message.Contains("pool 1"));
        var four = new OptEq.Autodiff.Layers.MultiTierOptEqLayerOptions { InChannels = 1, Height = 8, Width = 8, Channels = [2, 3, 2], HeadTiers = 4 };
        Assert.That(four.Validate, Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("1 … 3"));
        Assert.That(ModelConfig.FromJson(config.ToJson(), "cfg.json"), Is.EqualTo(config), "head tiers round trip");
        Assert.That(config.ToJson(), Does.Contain("\"headTiers\":2"));
    }

    [Test]
    public void TheMnistRecipeWithChannels16_32_32StaysUnder85000Parameters()
    {
        var config = new ModelConfig { Model = ModelKind.MultiTierOptEq, Input = 784, Classes = 10, Conv = new ConvModelOptions { Channels = [16, 32, 32] } };
        using var device = new NativeCpuDevice();
        using var model = new Classifier<float>(device, config);
        // Tiers 16×14×14, 32×7×7, 32×4×4 (injection stride 2); pool 2 → 32×2×2 into the head.
        int expected = 9 * (16 * 16 + 32 * 32 + 32 * 32) + 9 * (16 * 32 + 32 * 32) + 9 * 16 + (16 + 32 + 32) + (10 * 128 + 10);
        TestContext.Out.WriteLine($"multitier-opteq, channels 16,32,32, defaults: {model.ParameterCount} parameters");
        Assert.That(model.ParameterCount, Is.EqualTo(expected));
        Assert.That(model.ParameterCount, Is.LessThanOrEqualTo(85_000));
    }

    [Test]
    public void TheConfigurationRoundTripsThroughJson()
    {
        var json = Config.ToJson();
        Assert.That(json, Does.Contain("\"multitier-opteq\"").And.Contain("\"channels\":[2,3]"));
        Assert.That(ModelConfig.FromJson(json, "cfg.json"), Is.EqualTo(Config));
        var spec = Config.Spec;
        var specJson = System.Text.Json.JsonSerializer.Serialize(spec, ModelJson.Options);
        Assert.That(specJson.Replace(" ", ""), Does.Contain("\"layer\":\"multitier-opteq\""));
        Assert.That(System.Text.Json.JsonSerializer.Deserialize<ModelSpec>(specJson, ModelJson.Options), Is.EqualTo(spec), "the explicit spec round trips too");
    }

    [Test]
    public void ACheckpointRoundTripsTheModel()
    {
        string dir = Directory.CreateTempSubdirectory("opteq-multitier-").FullName;
        try
        {
            using var device = new NativeCpuDevice();
            using var model = new Classifier<float>(device, Config);
            var expected = ModelSpecTests.Fingerprint(device, model);
            var checkpoint = new Checkpoint(model.Config.ToJson());
            checkpoint.AddParameters(model.Parameters());
            string path = Path.Combine(dir, "tiers.safetensors");
            checkpoint.Save(path);
            using var loaded = ModelCheckpoint.Load(device, path);
            Assert.That(loaded.Spec, Is.EqualTo(model.Spec));
            Assert.That(ModelSpecTests.Fingerprint(device, loaded), Is.EqualTo(expected), "names, parameters and logits of the first forward");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [TestCase("anderson")]
    [TestCase("fista")]
    public void SolverIterationsOnTheBlockOperatorAllocateNothing(string kind)
    {
        using var device = new NativeCpuDevice();
        var tiers = MultiTierGeometry.Build([4, 6], 10, 10, 3, ConvPadding.Zero);
        var rng = new Random(3);
        var weights = tiers.Diagonal.Concat(tiers.Below)
            .Select(g => device.FromArray(Enumerable.Range(0, g.OutChannels * g.WeightColumns).Select(_ => (float)(0.05 * (rng.NextDouble() - 0.5))).ToArray(), g.OutChannels, g.WeightColumns))
            .ToArray();
        using var c = device.FromArray(Enumerable.Range(0, 16 * tiers.Size).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray(), 16, tiers.Size);
        using var map = new OperatorOptEqMap<float>(Activation.ReLU, new MultiTierOperator<float>(tiers, weights), c, 0.9);
        using var z0 = device.Allocate<float>(16, tiers.Size);
        device.Fill(z0, 0f);
        try
        {
            long BytesFor(int iterations)
            {
                var options = new SolverOptions { Solver = SolverRegistry.Forward[kind], MaxIterations = iterations, Tolerance = 0, CheckEvery = 5, RecordTrace = false, SplittingStep = 1.0 };
                SolverRegistry.Solve(map, z0, options).Dispose();
                return Enumerable.Range(0, 3).Min(_ => SteadyStateAllocation.Bytes(() => SolverRegistry.Solve(map, z0, options).Dispose()));
            }
            long ten = BytesFor(10), forty = BytesFor(40);
            Assert.That(forty, Is.EqualTo(ten), $"{kind}: managed bytes of 40 iterations ({forty}) against 10 ({ten})");
        }
        finally { foreach (var w in weights) w.Dispose(); }
    }

    [Test]
    public void AMultiTierTrainingStepAllocatesNothingAfterWarmUp()
    {
        using var device = new NativeCpuDevice();
        var options = new TrainingOptions { Epochs = 2, Batch = 32 };
        var train = TrainerTests.Synthetic("train", 16 * options.Batch, 1);
        var test = TrainerTests.Synthetic("test", 60, 2);
        var config = new ModelConfig
        {
            Model = ModelKind.MultiTierOptEq, Input = train.Pixels, Classes = train.Classes, ForwardMaxIterations = 8, BackwardMaxIterations = 8,
            Conv = new ConvModelOptions { Channels = [3, 4], InjectionStride = 1, Pool = 2 },
        };
        using var model = new Classifier<float>(device, config);
        using var trainer = new Trainer(device, model, options, train, test);
        // In rounds of two steps (at most five): a one-time allocation by the runtime passes, one per step fails.
        SteadyStateAllocation.AssertTrainingSteps(trainer, warmUp: 3, stepsPerRound: 2, "managed bytes of two multitier-opteq training steps");
    }

    [Test]
    public void OpteqTrainTrainsAMultiTierModelOnDigits()
    {
        using var dir = new Data.TempDirectory();
        var (exit, output, error) = Run("train", "--model", "multitier-opteq", "--channels", "4,6", "--injection-stride", "1", "--pool", "1",
            "--data", Digits, "--epochs", "3", "--batch", "32", "--lr", "0.03", "--augment", "0", "--device", "cpu", "--out", dir.Path);
        Assert.That(exit, Is.Zero, error);
        Assert.That(output, Does.Contain("multitier-opteq"));
        using var device = new NativeCpuDevice();
        using var model = ModelCheckpoint.Load(device, Path.Combine(dir.Path, "checkpoint.safetensors"));
        Assert.That(model.Config.Conv!.Channels, Is.EqualTo(new[] { 4, 6 }));
        var accuracy = System.Text.RegularExpressions.Regex.Match(output, @"final test accuracy ([\d.]+) %");
        Assert.That(accuracy.Success, output);
        TestContext.Out.WriteLine($"multitier-opteq on digits, 3 epochs: {accuracy.Groups[1].Value} %");
        Assert.That(double.Parse(accuracy.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThan(ThresholdPercent), "3 epochs learn the digits (92.5 % when this test was written)");
    }

    private const double ThresholdPercent = 85;

    [TestCase("--channels", "2,0", "--channels")]
    [TestCase("--kernel-size", "2", "--kernel-size")]
    [TestCase("--pool", "4", "pooling kernel 4 is larger than the 2×2 image")]
    [TestCase("--head-tiers", "4", "--head-tiers")]
    [TestCase("--head-tiers", "0", "--head-tiers")]
    public void ABadMultiTierOptionIsAClearError(string option, string value, string named)
    {
        using var dir = new Data.TempDirectory();
        var (exit, _, error) = Run("train", "--model", "multitier-opteq", "--channels", "2,2,2", "--injection-stride", "1", option, value,
            "--data", Digits, "--epochs", "1", "--device", "cpu", "--out", dir.Path);
        Assert.That(exit, Is.Not.Zero);
        Assert.That(error, Does.Contain(named));
        Assert.That(error, Does.Not.Contain("   at "), "no stack trace");
    }

    [TestCase("multitier-opteq", "2", "--pool 1")]
    [TestCase("conv-opteq", "1", "only multitier-opteq has tiers")]
    public void AHeadOnSeveralTiersNeedsTiersAndNoPooling(string model, string pool, string named)
    {
        using var dir = new Data.TempDirectory();
        var (exit, _, error) = Run("train", "--model", model, "--channels", model == "conv-opteq" ? "2" : "2,2", "--injection-stride", "1", "--pool", pool,
            "--head-tiers", "2", "--data", Digits, "--epochs", "1", "--device", "cpu", "--out", dir.Path);
        Assert.That(exit, Is.EqualTo(2), error);
        Assert.That(error, Does.Contain("--head-tiers").And.Contain(named));
        Assert.That(error, Does.Not.Contain("   at "), "no stack trace");
    }
}
