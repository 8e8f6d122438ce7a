using System.Text.Json;
using NUnit.Framework;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Training;
using OptEq.Kernels.Native;
using OptEq.Solvers;

namespace OptEq.Tests.Training;

/// <summary><c>opteq bench solvers --checkpoint</c> on a tiny trained model, and <c>--solvers-from</c>'s errors through the command line.</summary>
[NonParallelizable]
public class BenchSolversCliTests
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
        _dir = Directory.CreateTempSubdirectory("opteq-bench-solvers-").FullName;
        // 36 training and 12 test images, 6×6, three classes (as TrainerTests.Synthetic), as IDX files for --data.
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

    private string Checkpoint(string name, ModelConfig config)
    {
        string path = Path.Combine(_dir, name + ".safetensors");
        using var device = new NativeCpuDevice();
        var data = TrainerTests.Synthetic("train", 32, 1);
        using var model = new Classifier<float>(device, config);
        using var trainer = new Trainer(device, model, new TrainingOptions { Epochs = 1 }, data, data);
        trainer.Save(path);
        return path;
    }

    [Test]
    public void BenchesEverySolverOnTheEquilibriaOfACheckpoint()
    {
        string checkpoint = Checkpoint("opteq", new ModelConfig { Model = ModelKind.OptEq, Input = 36, Classes = 3, Hidden = 8 });
        var (exit, error, output) = Run("bench", "solvers", "--checkpoint", checkpoint, "--data", _data, "--samples", "8", "--solvers", "picard", "anderson", "--json", "--device", "cpu");
        Assert.That(exit, Is.Zero, error);
        var rows = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.That(rows.Select(r => r.GetProperty("solver").GetString()), Is.EqualTo(new[] { "picard", "anderson" }));
        foreach (var r in rows)
        {
            Assert.That(r.GetProperty("bench").GetString(), Is.EqualTo("solver-checkpoint"));
            Assert.That(r.GetProperty("samples").GetInt32(), Is.EqualTo(8));
            Assert.That(r.GetProperty("converged").GetDouble(), Is.EqualTo(1.0));
            Assert.That(r.GetProperty("iterations_median").GetDouble(), Is.GreaterThan(0).And.LessThanOrEqualTo(r.GetProperty("iterations_worst").GetInt32()));
            // At a relative residual of 1e-4 the objective is within rounding of the tight reference's.
            Assert.That(Math.Abs(r.GetProperty("objective_gap_worst").GetDouble()), Is.LessThan(1e-3));
        }

        (exit, error, output) = Run("bench", "solvers", "--checkpoint", checkpoint, "--data", _data, "--samples", "100", "--solvers", "picard", "--device", "cpu");
        Assert.That(exit, Is.Zero, error);
        Assert.That(output, Does.Contain("12 test images").And.Contain("G gap worst").And.Contain("picard"));
    }

    [Test]
    public void ACheckpointWithoutAnEquilibriumIsAClearError()
    {
        string checkpoint = Checkpoint("mlp", new ModelConfig { Model = ModelKind.Mlp, Input = 36, Classes = 3, Layers = [8] });
        var (exit, error, _) = Run("bench", "solvers", "--checkpoint", checkpoint, "--data", _data, "--device", "cpu");
        Assert.That(exit, Is.Not.EqualTo(0));
        Assert.That(error, Does.Contain(checkpoint).And.Contain("no equilibrium layer").And.Not.Contain("   at "));
    }

    [Test]
    public void AnEquilibriumModelOtherThanOptEqIsNamed()
    {
        string checkpoint = Checkpoint("mon", new ModelConfig { Model = ModelKind.Mon, Input = 36, Classes = 3, Hidden = 8, Solver = ForwardSolvers.PeacemanRachford });
        var (exit, error, _) = Run("bench", "solvers", "--checkpoint", checkpoint, "--data", _data, "--device", "cpu");
        Assert.That(exit, Is.Not.EqualTo(0));
        Assert.That(error, Does.Contain(checkpoint).And.Contain("opteq models").And.Not.Contain("   at "));
    }

    [Test]
    public void BadSolverAssembliesAndSampleCountsAreClearErrors()
    {
        var (exit, error, _) = Run("bench", "solvers", "--solvers-from", "/nonexistent/Variant.dll");
        Assert.That(exit, Is.Not.EqualTo(0));
        Assert.That(error, Does.Contain("/nonexistent/Variant.dll").And.Not.Contain("   at "));

        string checkpoint = Checkpoint("opteq-samples", new ModelConfig { Model = ModelKind.OptEq, Input = 36, Classes = 3, Hidden = 8 });
        (exit, error, _) = Run("bench", "solvers", "--checkpoint", checkpoint, "--data", _data, "--samples", "0", "--device", "cpu");
        Assert.That(exit, Is.Not.EqualTo(0));
        Assert.That(error, Does.Contain("--samples"));

        (exit, error, _) = Run("bench", "solvers", "--checkpoint", "/nonexistent/model.safetensors", "--device", "cpu");
        Assert.That(exit, Is.Not.EqualTo(0));
        Assert.That(error, Does.Contain("/nonexistent/model.safetensors").And.Not.Contain("   at "));
    }
}
