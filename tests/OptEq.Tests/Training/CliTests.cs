using NUnit.Framework;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Training;
using OptEq.Kernels.Native;
using OptEq.Solvers;

namespace OptEq.Tests.Training;

/// <summary>Bad input to the command line: a clear one-line error and a non-zero exit, never a stack trace.</summary>
[NonParallelizable]
public class CliTests
{
    private static (int Exit, string Error) Run(params string[] args)
    {
        var error = new StringWriter();
        var previous = Console.Error;
        var previousOut = Console.Out;
        Console.SetError(error);
        Console.SetOut(new StringWriter());
        try { return (OptEq.Cli.Program.Main(args), error.ToString()); }
        finally { Console.SetError(previous); Console.SetOut(previousOut); }
    }

    [Test]
    public void MissingDataFolderNamesIt()
    {
        var (exit, error) = Run("train", "--data", "/nonexistent/mnist", "--epochs", "1");
        Assert.That(exit, Is.Not.EqualTo(0));
        Assert.That(error, Does.Contain("/nonexistent/mnist").And.Not.Contain("   at "));
    }

    [Test]
    public void UnknownModelListsTheValidOnes()
    {
        var (exit, error) = Run("train", "--model", "transformer", "--epochs", "1", "--out", Path.Combine(Path.GetTempPath(), "opteq-unused"));
        Assert.That(exit, Is.Not.EqualTo(0));
        Assert.That(error, Does.Contain("unknown model 'transformer'").And.Contain("deep-opteq"));
    }

    [Test]
    public void UnknownOptionIsRejected()
    {
        var (exit, error) = Run("train", "--epochz", "3");
        Assert.That(exit, Is.Not.EqualTo(0));
        Assert.That(error, Does.Contain("--epochz"));
    }

    [Test]
    public void MissingCheckpointIsNamed()
    {
        var (exit, error) = Run("eval", "--checkpoint", "/nonexistent/model.safetensors");
        Assert.That(exit, Is.Not.EqualTo(0));
        Assert.That(error, Does.Contain("/nonexistent/model.safetensors"));
    }

    [Test]
    public void CorruptCheckpointIsAClearError()
    {
        string path = Path.Combine(Path.GetTempPath(), $"opteq-corrupt-{Guid.NewGuid():N}.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        try
        {
            var (exit, error) = Run("eval", "--checkpoint", path);
            Assert.That(exit, Is.Not.EqualTo(0));
            Assert.That(error, Does.Contain(path).And.Not.Contain("   at "));
        }
        finally { File.Delete(path); }
    }

    [Test]
    public void SolveRefusesAModelWithoutAnObjective()
    {
        string dir = Directory.CreateTempSubdirectory("opteq-cli-").FullName;
        try
        {
            using var device = new NativeCpuDevice();
            var data = TrainerTests.Synthetic("train", 32, 1);
            string checkpoint = Path.Combine(dir, "mon.safetensors");
            using (var model = new Classifier<float>(device, new ModelConfig { Model = ModelKind.Mon, Input = 36, Classes = 3, Hidden = 8, Solver = ForwardSolvers.PeacemanRachford }))
            using (var trainer = new Trainer(device, model, new TrainingOptions { Epochs = 1 }, data, data))
                trainer.Save(checkpoint);
            var (exit, error) = Run("solve", "--checkpoint", checkpoint);
            Assert.That(exit, Is.Not.EqualTo(0));
            Assert.That(error, Does.Contain("opteq models").And.Contain("mon"));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Test]
    public void TrainsAnMlpGivenAsLayerWidthsAndEvaluatesItsCheckpoint()
    {
        string dir = Directory.CreateTempSubdirectory("opteq-cli-mlp-").FullName;
        try
        {
            // 36 training and 12 test images, 6×6, three classes by the brightest quadrant (as TrainerTests.Synthetic).
            var train = TrainerTests.Synthetic("train", 36, 1);
            var test = TrainerTests.Synthetic("test", 12, 2);
            static byte[] Bytes(OptEq.Autodiff.Data.Dataset d) =>
                Enumerable.Range(0, d.Count).SelectMany(i => d.Image(i).ToArray()).Select(v => (byte)Math.Clamp(v * 255, 0, 255)).ToArray();
            string data = Path.Combine(dir, "data");
            Directory.CreateDirectory(data);
            Data.IdxTestFiles.Write(data, "train-images-idx3-ubyte", Data.IdxTestFiles.Encode([36, 6, 6], Bytes(train)), gzip: false);
            Data.IdxTestFiles.Write(data, "train-labels-idx1-ubyte", Data.IdxTestFiles.Encode([36], train.Labels.Select(l => (byte)l).ToArray()), gzip: false);
            Data.IdxTestFiles.Write(data, "t10k-images-idx3-ubyte", Data.IdxTestFiles.Encode([12, 6, 6], Bytes(test)), gzip: false);
            Data.IdxTestFiles.Write(data, "t10k-labels-idx1-ubyte", Data.IdxTestFiles.Encode([12], test.Labels.Select(l => (byte)l).ToArray()), gzip: false);
            string run = Path.Combine(dir, "run");
            var (exit, error) = Run("train", "--model", "mlp", "--layers", "8,5", "--epochs", "1", "--batch", "12", "--data", data, "--out", run, "--device", "cpu");
            Assert.That(exit, Is.Zero, error);
            string checkpoint = Path.Combine(run, "checkpoint.safetensors");
            var config = OptEq.Autodiff.Checkpoints.Checkpoint.Load(checkpoint).Config;
            Assert.That(config, Does.Contain("\"model\":\"mlp\"").And.Contain("\"name\":\"mlp.1\"").And.Contain("\"output\":5"));
            using var device = new NativeCpuDevice();
            using (var model = ModelCheckpoint.Load(device, checkpoint))
                Assert.That(model.Parameters().Select(p => p.Name), Is.EqualTo(new[] { "mlp.0.weight", "mlp.0.bias", "mlp.1.weight", "mlp.1.bias", "head.weight", "head.bias" }));
            (exit, error) = Run("eval", "--checkpoint", checkpoint, "--data", data, "--device", "cpu");
            Assert.That(exit, Is.Zero, error);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Test]
    public void BadTypedOptionsListTheValidNames()
    {
        string unused = Path.Combine(Path.GetTempPath(), "opteq-unused");
        Assert.That(Run("train", "--solver", "newton", "--out", unused).Error, Does.Contain("unknown forward solver 'newton'").And.Contain("peaceman-rachford"));
        Assert.That(Run("train", "--backward", "implicit-lu", "--out", unused).Error, Does.Contain("unknown backward mode 'implicit-lu'").And.Contain("implicit-cg"));
        Assert.That(Run("train", "--activation", "swish", "--out", unused).Error, Does.Contain("swish"));
        Assert.That(Run("train", "--layers", "64,x", "--out", unused).Error, Does.Contain("'x' is not an integer"));
    }
}
