using NUnit.Framework;
using OptEq.Autodiff.Checkpoints;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Validation;
using OptEq.Kernels;
using OptEq.Kernels.Native;
using OptEq.Tests.Models;

using static OptEq.Tests.Training.InProcessCli;

namespace OptEq.Tests.Conv;

/// <summary>The conv-opteq model kind: its recipe, JSON and checkpoint round trips, and <c>opteq train</c> end to end.</summary>
[NonParallelizable]
public class ConvModelTests
{
    private static ModelConfig Config => new()
    {
        Model = ModelKind.ConvOptEq, Input = 64, Classes = 10, Seed = 3,
        Conv = new ConvModelOptions { Channels = [3], KernelSize = 3, Padding = ConvPadding.Circular, InjectionStride = 2, Pool = 2 },
    };

    [Test]
    public void TheRecipeIsAConvolutionalOptEqLayerPoolingAndAHead()
    {
        var spec = Config.Spec;
        Assert.That(spec.Layers.Select(l => l.GetType().Name), Is.EqualTo(new[] { "ConvOptEqSpec", "AvgPool2dSpec", "LinearSpec" }));
        var conv = (ConvOptEqSpec)spec.Layers[0];
        Assert.That((conv.Height, conv.Width, conv.Channels, conv.InjectionStride, conv.Padding), Is.EqualTo((8, 8, 3, 2, ConvPadding.Circular)));
        Assert.That(conv.OutputSize(64), Is.EqualTo(3 * 4 * 4), "stride 2: the hidden state is 3×4×4");
        Assert.That(spec.Layers[1].OutputSize(48), Is.EqualTo(3 * 2 * 2));
        using var device = new NativeCpuDevice();
        using var model = new Classifier<float>(device, Config);
        // V 3×27, U 3×9, b 3, head 10×12 + 10.
        Assert.That(model.ParameterCount, Is.EqualTo(3 * 27 + 3 * 9 + 3 + 10 * 12 + 10));
    }

    [Test]
    public void TheConfigurationRoundTripsThroughJsonAndOtherKindsWriteNoConvKey()
    {
        var json = Config.ToJson();
        Assert.That(json, Does.Contain("\"conv\":{").And.Contain("\"padding\":\"circular\""));
        Assert.That(ModelConfig.FromJson(json, "cfg.json"), Is.EqualTo(Config));
        Assert.That(new ModelConfig().ToJson(), Does.Not.Contain("\"conv\""), "the dense kinds' JSON is unchanged");
    }

    [Test]
    public void ANonSquareInputIsAClearError()
        => Assert.That(() => (Config with { Input = 60 }).Validate(), Throws.ArgumentException.With.Message.Contains("square images"));

    [Test]
    public void ACheckpointRoundTripsTheModel()
    {
        string dir = Directory.CreateTempSubdirectory("opteq-conv-").FullName;
        try
        {
            using var device = new NativeCpuDevice();
            using var model = new Classifier<float>(device, Config);
            var expected = ModelSpecTests.Fingerprint(device, model);
            var checkpoint = new Checkpoint(model.Config.ToJson());
            checkpoint.AddParameters(model.Parameters());
            string path = Path.Combine(dir, "conv.safetensors");
            checkpoint.Save(path);
            using var loaded = ModelCheckpoint.Load(device, path);
            Assert.That(loaded.Spec, Is.EqualTo(model.Spec));
            Assert.That(ModelSpecTests.Fingerprint(device, loaded), Is.EqualTo(expected), "names, parameters and logits of the first forward");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Test]
    public void OpteqTrainTrainsAConvOptEqModelOnDigits()
    {
        using var dir = new Data.TempDirectory();
        var (exit, output, error) = Run("train", "--model", "conv-opteq", "--channels", "4", "--injection-stride", "1", "--padding", "circular", "--pool", "2",
            "--data", Digits, "--epochs", "3", "--batch", "32", "--lr", "0.03", "--augment", "0", "--device", "cpu", "--out", dir.Path);
        Assert.That(exit, Is.Zero, error);
        Assert.That(output, Does.Contain("conv-opteq"));
        using var device = new NativeCpuDevice();
        using var model = ModelCheckpoint.Load(device, Path.Combine(dir.Path, "checkpoint.safetensors"));
        Assert.That(model.Config.Conv!.Padding, Is.EqualTo(ConvPadding.Circular));
        var accuracy = System.Text.RegularExpressions.Regex.Match(output, @"final test accuracy ([\d.]+) %");
        Assert.That(accuracy.Success, output);
        Assert.That(double.Parse(accuracy.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThan(90), "3 epochs learn the digits (96.7 % when this test was written)");
        // The checkpoint holds no power-iteration vectors: a reloaded model must still scale W as the trained one did.
        var (evalExit, evalOutput, evalError) = Run("eval", "--checkpoint", Path.Combine(dir.Path, "checkpoint.safetensors"), "--data", Digits, "--device", "cpu");
        Assert.That(evalExit, Is.Zero, evalError);
        var evaluated = System.Text.RegularExpressions.Regex.Match(evalOutput, @"accuracy\s+([\d.]+) %");
        Assert.That(evaluated.Success, evalOutput);
        Assert.That(double.Parse(evaluated.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
            Is.EqualTo(double.Parse(accuracy.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).Within(0.3), "eval of the checkpoint against training's last evaluation");
    }

    [TestCase("--channels", "4,4", "--channels")]
    [TestCase("--kernel-size", "4", "--kernel-size")]
    [TestCase("--padding", "reflect", "--padding")]
    [TestCase("--injection-stride", "0", "--injection-stride")]
    [TestCase("--gram", "fft", "--gram: 'fft' is not a WᵀW method")]
    [TestCase("--gram", "Fourier", "--gram")]
    [TestCase("--gram", "fourier", "--gram: fourier needs --padding circular")] // zero padding (the default) is not circulant
    public void ABadConvOptionIsAnErrorNamingIt(string option, string value, string named)
    {
        using var dir = new Data.TempDirectory();
        var (exit, _, error) = Run("train", "--model", "conv-opteq", option, value, "--data", Digits, "--epochs", "1", "--device", "cpu", "--out", dir.Path);
        Assert.That(exit, Is.Not.Zero);
        Assert.That(error, Does.Contain(named));
        Assert.That(error, Does.Not.Contain("   at "), "no stack trace");
    }

    [Test]
    public void GramIsAConvOptEqOptionOnly()
    {
        using var dir = new Data.TempDirectory();
        var (exit, _, error) = Run("train", "--model", "multitier-opteq", "--channels", "2,2", "--gram", "blocked", "--data", Digits, "--epochs", "1", "--device", "cpu", "--out", dir.Path);
        Assert.That(exit, Is.Not.Zero);
        Assert.That(error, Does.Contain("--gram").And.Contain("conv-opteq setting"));
        Assert.That(error, Does.Not.Contain("   at "), "no stack trace");
    }

    [Test]
    public void TrainingWithTheFourierMethodStoresItAndAResumeMayChangeIt()
    {
        using var dir = new Data.TempDirectory();
        string[] common = ["--model", "conv-opteq", "--channels", "4", "--injection-stride", "1", "--padding", "circular", "--pool", "2",
            "--data", Digits, "--batch", "32", "--lr", "0.03", "--augment", "0", "--device", "cpu"];
        var (exit, _, error) = Run(["train", .. common, "--gram", "fourier", "--epochs", "2", "--stop-after", "1", "--out", Path.Combine(dir.Path, "first")]);
        Assert.That(exit, Is.Zero, error);
        string checkpoint = Path.Combine(dir.Path, "first", "checkpoint.safetensors");
        using (var device = new NativeCpuDevice())
        using (var model = ModelCheckpoint.Load(device, checkpoint))
        {
            Assert.That(model.Config.Conv!.Gram, Is.EqualTo(OptEq.Solvers.Operators.GramMethod.Fourier), "the checkpoint keeps the method");
            Assert.That(((ConvOptEqSpec)model.Spec.Layers[0]).Gram, Is.EqualTo(OptEq.Solvers.Operators.GramMethod.Fourier));
        }
        // The method is how the solves run, not the model: the run resumes under the default (auto) without --allow-option-change.
        var (resumed, resumedOutput, resumedError) = Run(["train", .. common, "--epochs", "2", "--resume", checkpoint, "--out", Path.Combine(dir.Path, "resumed")]);
        Assert.That(resumed, Is.Zero, resumedError + resumedOutput);
    }
}
