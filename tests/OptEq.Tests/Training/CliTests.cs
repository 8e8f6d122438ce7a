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
        var (exit, _, error) = InProcessCli.Run(args);
        return (exit, error);
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
            var (exit, error, output) = RunWithOutput("train", "--model", "mlp", "--layers", "8,5", "--epochs", "1", "--batch", "12", "--data", data, "--out", run, "--device", "cpu");
            Assert.That(exit, Is.Zero, error);
            // An explicit model's summary names its layers and says nothing of equilibrium solves.
            Assert.That(output, Does.Contain("mlp (relu, layers 8,5)").And.Not.Contain("forward solves converged"));
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

    [Test]
    public void UnknownOptimizerListsTheValidOnes()
    {
        var (exit, error) = Run("train", "--optimizer", "lion", "--epochs", "1", "--data", "/nonexistent/mnist");
        Assert.That(exit, Is.Not.EqualTo(0));
        Assert.That(error, Does.Contain("unknown optimizer 'lion'").And.Contain("adam, adamw, sgd"));
    }

    /// <summary>train then eval on a small IDX dataset: eval's accuracy is the trainer's last test accuracy (one evaluator).</summary>
    [Test]
    public void EvalReportsTheAccuracyTheTrainerMeasured()
    {
        string dir = Directory.CreateTempSubdirectory("opteq-cli-").FullName;
        try
        {
            foreach (var (name, count, seed) in new[] { ("train", 96, 1), ("t10k", 40, 2) })
            {
                var set = TrainerTests.Synthetic(name, count, seed);
                var bytes = set.Images.Select(v => (byte)Math.Round(v * 255)).ToArray();
                Data.IdxTestFiles.Write(dir, $"{name}-images-idx3-ubyte", Data.IdxTestFiles.Encode([count, 6, 6], bytes), gzip: false);
                Data.IdxTestFiles.Write(dir, $"{name}-labels-idx1-ubyte", Data.IdxTestFiles.Encode([count], set.Labels.Select(l => (byte)l).ToArray()), gzip: false);
            }
            string run = Path.Combine(dir, "run");
            var (trainExit, trainError, _) = RunWithOutput("train", "--data", dir, "--epochs", "2", "--batch", "32", "--hidden", "10", "--out", run);
            Assert.That(trainExit, Is.Zero, trainError);
            var (evalExit, evalError, output) = RunWithOutput("eval", "--checkpoint", Path.Combine(run, "checkpoint.safetensors"), "--data", dir, "--json");
            Assert.That(evalExit, Is.Zero, evalError);
            using var eval = System.Text.Json.JsonDocument.Parse(output);
            using var metrics = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
            Assert.That(eval.RootElement.GetProperty("accuracy").GetDouble(), Is.EqualTo(metrics.RootElement.GetProperty("final_test_accuracy").GetDouble()));
            Assert.That(eval.RootElement.GetProperty("samples").GetInt32(), Is.EqualTo(40));
            int confused = eval.RootElement.GetProperty("confusion").EnumerateArray().Sum(row => row.EnumerateArray().Sum(c => c.GetInt32()));
            Assert.That(confused, Is.EqualTo(40));
            Assert.That(eval.RootElement.GetProperty("forward_iterations_mean").GetDouble(), Is.GreaterThan(0));
            Assert.That(metrics.RootElement.GetProperty("settings").GetProperty("options").GetProperty("Optimizer").GetString(), Is.EqualTo("adam"));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    private static (int Exit, string Error, string Output) RunWithOutput(params string[] args)
    {
        var (exit, output, error) = InProcessCli.Run(args);
        return (exit, error, output);
    }
}
