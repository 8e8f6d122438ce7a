using NUnit.Framework;
using OptEq.Autodiff;
using OptEq.Autodiff.Checkpoints;
using OptEq.Autodiff.Models;
using OptEq.Kernels;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Native;
using OptEq.Kernels.Reference;
using OptEq.Tests.Models;

namespace OptEq.Tests.Conv;

/// <summary>The cnn model kind (a feedforward convolutional network): parameter count, its convolution against the reference, JSON and checkpoint round trips.</summary>
[NonParallelizable]
public class CnnModelTests
{
    private static readonly ModelConfig Config = new()
    {
        Model = ModelKind.Cnn, Input = 64, Classes = 10, Activation = Activation.ReLU, Seed = 2,
        Conv = new ConvModelOptions { Channels = [3, 5], KernelSize = 3, InjectionStride = 1, Pool = 2 },
    };

    [Test]
    public void ItHasTheParametersOfItsLayers()
    {
        using var device = new NativeCpuDevice();
        using var model = new Classifier<float>(device, Config);
        // conv 1→3 (3·9 + 3), conv 3→5 (5·27 + 5), head on 5×2×2 (10·20 + 10).
        Assert.That(model.ParameterCount, Is.EqualTo(30 + 140 + 210));
        Assert.That(model.Parameters().Select(p => p.Name), Is.EqualTo(new[] { "conv.0.weight", "conv.0.bias", "conv.1.weight", "conv.1.bias", "head.weight", "head.bias" }));
        Assert.That(model.HasEquilibrium, Is.False);
    }

    [Test]
    public void ItsFirstConvolutionIsTheReferenceConvolution()
    {
        using var device = new NativeCpuDevice();
        using var model = new Classifier<double>(device, Config);
        var layer = (OptEq.Autodiff.Layers.Conv2dLayer<double>)model.Layers[0];
        var rng = new Random(5);
        var x = Enumerable.Range(0, 2 * 64).Select(_ => rng.NextDouble() - 0.5).ToArray();
        using var input = device.FromArray(x, 2, 64);
        using var tape = Tape<double>.NoGrad(device);
        var y = layer.Forward(tape.Constant(input)).Value.ToArray();
        var expected = ReferenceKernels.Conv2d(layer.Geometry, 2, x, layer.Weight.Value.ToArray(), layer.Bias!.Value.ToArray());
        Assert.That(layer.Geometry, Is.EqualTo(new Conv2dGeometry(1, 8, 8, 3, 3, 3, 1, 1)));
        Assert.That(y, Is.EqualTo(expected).Within(1e-12));
    }

    [Test]
    public void TheConfigurationAndItsSpecRoundTripThroughJson()
    {
        var json = Config.ToJson();
        Assert.That(json, Does.Contain("\"cnn\"").And.Contain("\"channels\":[3,5]"));
        Assert.That(ModelConfig.FromJson(json, "cfg.json"), Is.EqualTo(Config));
        var spec = Config.Spec;
        var specJson = System.Text.Json.JsonSerializer.Serialize(spec, ModelJson.Options);
        Assert.That(specJson.Replace(" ", ""), Does.Contain("\"layer\":\"conv2d\""));
        Assert.That(System.Text.Json.JsonSerializer.Deserialize<ModelSpec>(specJson, ModelJson.Options), Is.EqualTo(spec), "the explicit spec round trips too");
    }

    [Test]
    public void ACheckpointRoundTripsTheModel()
    {
        string dir = Directory.CreateTempSubdirectory("opteq-cnn-").FullName;
        try
        {
            using var device = new NativeCpuDevice();
            using var model = new Classifier<float>(device, Config);
            var expected = ModelSpecTests.Fingerprint(device, model);
            var checkpoint = new Checkpoint(model.Config.ToJson());
            checkpoint.AddParameters(model.Parameters());
            string path = Path.Combine(dir, "cnn.safetensors");
            checkpoint.Save(path);
            using var loaded = ModelCheckpoint.Load(device, path);
            Assert.That(loaded.Spec, Is.EqualTo(model.Spec));
            Assert.That(ModelSpecTests.Fingerprint(device, loaded), Is.EqualTo(expected), "names, parameters and logits of the first forward");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>The size limit counts a convolution's kernel, not a dense map of its image: the paper-sized cnn on MNIST passes.</summary>
    [Test]
    public void TheSizeLimitAdmitsACnnOnMnist()
    {
        var mnist = Config with { Input = 784, Conv = new ConvModelOptions { Channels = [16, 32], KernelSize = 3, InjectionStride = 1, Pool = 2 } };
        Assert.DoesNotThrow(() => ModelLimits.Check(mnist.Spec));
        using var device = new NativeCpuDevice();
        using var model = new Classifier<float>(device, mnist);
        Assert.That(model.ParameterCount, Is.EqualTo(16 * 10 + 32 * 145 + 10 * 1568 + 10));
    }

    /// <summary>
    /// The convolutional equilibria count their kernels too: 64 channels on MNIST pass (a 64-channel conv-opteq
    /// was refused as a dense 12,544-wide equilibrium), and the estimate is never below the model's real count.
    /// </summary>
    [TestCase("conv-opteq", "64")]
    [TestCase("multitier-opteq", "32,64,64")]
    [TestCase("conv-mon", "64")]
    public void TheSizeLimitAdmitsWideConvolutionalEquilibriaOnMnist(string kind, string channels)
    {
        var config = new ModelConfig
        {
            Model = ModelKind.Parse(kind), Input = 784, Classes = 10,
            Conv = new ConvModelOptions { Channels = [.. channels.Split(',').Select(int.Parse)], Pool = 4 },
        };
        Assert.DoesNotThrow(() => ModelLimits.Check(config.Spec));
        using var device = new NativeCpuDevice();
        using var model = new Classifier<float>(device, config);
        long estimate = ModelLimits.Estimate(config.Spec);
        TestContext.Out.WriteLine($"{kind} {channels}: {model.ParameterCount} parameters, estimated {estimate}");
        Assert.That(estimate, Is.GreaterThanOrEqualTo(model.ParameterCount), "the limit's estimate bounds the real count");
        Assert.That(estimate, Is.LessThan(4L * model.ParameterCount), "and stays near it (not a dense map of the image)");
    }

    [Test]
    public void ABadConvolutionSpecIsAClearError()
    {
        var spec = new ModelSpec { Input = 16, Layers = [new Conv2dSpec { Name = "c", InChannels = 1, Height = 4, Width = 4, OutChannels = 2, KernelSize = 7, Padding = 0 }, new LinearSpec { Name = "head", Output = 2 }] };
        var e = Assert.Throws<ArgumentException>(spec.Validate);
        Assert.That(e!.Message, Does.Contain("layer 'c'").And.Contain("kernel is larger"));
        var wrongInput = new ModelSpec { Input = 15, Layers = [new Conv2dSpec { Name = "c", InChannels = 1, Height = 4, Width = 4, OutChannels = 2 }] };
        Assert.That(Assert.Throws<ArgumentException>(wrongInput.Validate)!.Message, Does.Contain("takes 1×4×4 = 16 inputs, it receives 15"));
    }
}
