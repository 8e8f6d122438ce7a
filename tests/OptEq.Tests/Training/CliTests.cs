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
}
