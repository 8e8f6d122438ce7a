using NUnit.Framework;
using OptEq.Autodiff.Checkpoints;
using OptEq.Autodiff.Models;
using OptEq.Kernels;

namespace OptEq.Tests.Training;

/// <summary><c>opteq train --model conv-mon</c> on tiny 6×6 images, then <c>opteq eval</c> of its checkpoint.</summary>
[NonParallelizable]
public class ConvMonCliTests
{
    private string _dir = "", _data = "";

    private static (int Exit, string Error, string Output) Run(params string[] args)
    {
        var (exit, output, error) = InProcessCli.Run(args);
        return (exit, error, output);
    }

    [OneTimeSetUp]
    public void WriteData()
    {
        _dir = Directory.CreateTempSubdirectory("opteq-conv-mon-").FullName;
        var train = TrainerTests.Synthetic("train", 36, 1);
        var test = TrainerTests.Synthetic("test", 12, 2);
        static byte[] Bytes(OptEq.Autodiff.Data.Dataset d) =>
            Enumerable.Range(0, d.Count).SelectMany(i => d.Image(i).ToArray()).Select(v => (byte)Math.Clamp(v * 255, 0, 255)).ToArray();
        _data = Path.Combine(_dir, "data");
        Directory.CreateDirectory(_data);
        Data.IdxTestFiles.Write(_data, "train-images-idx3-ubyte", Data.IdxTestFiles.Encode([36, 6, 6], Bytes(train)), gzip: false);
        Data.IdxTestFiles.Write(_data, "train-labels-idx1-ubyte", Data.IdxTestFiles.Encode([36], train.Labels.Select(l => (byte)l).ToArray()), gzip: false);
        Data.IdxTestFiles.Write(_data, "t10k-images-idx3-ubyte", Data.IdxTestFiles.Encode([12, 6, 6], Bytes(test)), gzip: false);
        Data.IdxTestFiles.Write(_data, "t10k-labels-idx1-ubyte", Data.IdxTestFiles.Encode([12], test.Labels.Select(l => (byte)l).ToArray()), gzip: false);
    }

    [OneTimeTearDown]
    public void Clean() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void TrainsAndTheCheckpointRebuildsTheModel()
    {
        string run = Path.Combine(_dir, "run");
        var (exit, error, _) = Run("train", "--model", "conv-mon", "--data", _data, "--epochs", "2", "--batch", "12", "--channels", "3", "--pool", "2",
            "--padding", "zero", "--injection-stride", "1", "--solver", "forward-backward", "--forward-iterations", "8", "--backward-iterations", "8", "--augment", "0", "--out", run);
        Assert.That(exit, Is.Zero, error);
        string checkpoint = Path.Combine(run, "checkpoint.safetensors");
        Assert.That(File.Exists(checkpoint), Is.True);
        // The stored configuration names the kind and rebuilds the same spec: conv-mon with the options given.
        var config = ModelConfig.FromJson(Checkpoint.Load(checkpoint).Config, checkpoint);
        Assert.That(config.Model, Is.EqualTo(ModelKind.ConvMon));
        var layer = (MonotoneConvSpec)config.Spec.Layers[0];
        Assert.That((layer.Channels, layer.Pool, layer.Padding, layer.InjectionStride, layer.Margin), Is.EqualTo((3, 2, ConvPadding.Zero, 1, 1.0)));
        Assert.That(layer.Forward.Solver.Name, Is.EqualTo("forward-backward"));
        var (evalExit, evalError, evalOutput) = Run("eval", "--checkpoint", checkpoint, "--data", _data);
        Assert.That(evalExit, Is.Zero, evalError);
        Assert.That(evalOutput, Does.Contain("%"));
    }

    [Test]
    public void PeacemanRachfordIsRefusedWithTheReason()
    {
        var (exit, error, _) = Run("train", "--model", "conv-mon", "--data", _data, "--epochs", "1", "--channels", "2", "--solver", "peaceman-rachford",
            "--out", Path.Combine(_dir, "refused"));
        Assert.That(exit, Is.Not.Zero);
        Assert.That(error, Does.Contain("Fourier").And.Not.Contain("   at "));
    }

    [Test]
    public void TwoChannelCountsAreAClearError()
    {
        var (exit, error, _) = Run("train", "--model", "conv-mon", "--data", _data, "--epochs", "1", "--channels", "2,3", "--out", Path.Combine(_dir, "two"));
        Assert.That(exit, Is.Not.Zero);
        Assert.That(error, Does.Contain("one channel count").And.Not.Contain("   at "));
    }
}
