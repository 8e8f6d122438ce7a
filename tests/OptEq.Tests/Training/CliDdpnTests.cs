using System.Text.Json;
using NUnit.Framework;

using static OptEq.Tests.Training.InProcessCli;

namespace OptEq.Tests.Training;

/// <summary><c>opteq train --optimizer ddpnopt</c> and <c>opteq optimizers compare</c> end to end, on the bundled WINE set.</summary>
[NonParallelizable]
public class CliDdpnTests
{
    private static string Wine => Path.Combine(Path.GetDirectoryName(OptEq.Autodiff.Data.DatasetLoader.FindBundled([AppContext.BaseDirectory]))!, "wine");

    [Test]
    public void TrainsAnMlpWithDdpnOptOnWine()
    {
        using var dir = new Data.TempDirectory();
        var (exit, output, error) = Run("train", "--model", "mlp", "--layers", "8,8", "--activation", "tanh", "--optimizer", "ddpnopt", "--ddpn-base", "rmsprop",
            "--ddpn-epsilon", "0.01", "--data", Wine, "--augment", "0", "--epochs", "2", "--batch", "32", "--lr", "0.003", "--device", "cpu", "--out", dir.Path);
        Assert.That(exit, Is.Zero, error);
        Assert.That(File.Exists(Path.Combine(dir.Path, "checkpoint.safetensors")), "a checkpoint was written");
        Assert.That(output, Does.Contain("mlp"));
    }

    [Test]
    public void TrainsWithTheKfacPreconditionerAndRecordsItsOptions()
    {
        using var dir = new Data.TempDirectory();
        var (exit, _, error) = Run("train", "--model", "mlp", "--layers", "8,8", "--activation", "tanh", "--optimizer", "ddpnopt", "--ddpn-base", "sgd",
            "--ddpn-precond", "kfac", "--ddpn-kfac-refresh", "3", "--data", Wine, "--augment", "0", "--epochs", "2", "--batch", "32", "--lr", "0.003",
            "--device", "cpu", "--out", dir.Path);
        Assert.That(exit, Is.Zero, error);
        var checkpoint = OptEq.Autodiff.Checkpoints.Checkpoint.Load(Path.Combine(dir.Path, "checkpoint.safetensors"));
        var record = OptEq.Autodiff.Training.TrainingRecord.FromJson(checkpoint.Training!, "checkpoint");
        Assert.That(record.Ddpn, Does.Contain("precond kfac").And.Contain("kfac-refresh 3"));
    }

    [Test]
    public void AKfacPreconditionerOverAdamIsAClearError()
    {
        using var dir = new Data.TempDirectory();
        var (exit, _, error) = Run("train", "--model", "mlp", "--layers", "8", "--optimizer", "ddpnopt", "--ddpn-precond", "kfac", "--data", Wine,
            "--augment", "0", "--epochs", "1", "--device", "cpu", "--out", dir.Path);
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("kfac preconditioner needs the base optimizer sgd").And.Not.Contain("   at "));
    }

    [Test]
    public void DdpnOptTrainsAnOptEqModelAndAnIdlModelIsAClearError()
    {
        using var dir = new Data.TempDirectory();
        var (exit, output, error) = Run("train", "--model", "opteq", "--hidden", "8", "--optimizer", "ddpnopt", "--data", Wine, "--augment", "0", "--epochs", "1",
            "--device", "cpu", "--out", dir.Path);
        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(File.Exists(Path.Combine(dir.Path, "checkpoint.safetensors")), output);
        using var idl = new Data.TempDirectory();
        (exit, _, error) = Run("train", "--model", "idl", "--hidden", "8", "--optimizer", "ddpnopt", "--data", Wine, "--augment", "0", "--epochs", "1",
            "--device", "cpu", "--out", idl.Path);
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("needs a linear head").And.Not.Contain("   at "));
    }

    [Test]
    public void CompareWritesOneJsonObjectPerRunWithExactlyTheDocumentedKeys()
    {
        using var dir = new Data.TempDirectory();
        var (exit, output, error) = Run("optimizers", "compare", "--json", "--data", "wine", "--seeds", "1", "--epochs", "1", "--vanishing", "false",
            "--device", "cpu", "--out", dir.Path);
        Assert.That(exit, Is.Zero, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(18), "6 optimizers × 3 learning rates × 1 seed");
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            Assert.That(doc.RootElement.EnumerateObject().Select(p => p.Name),
                Is.EqualTo(new[] { "bench", "data", "optimizer", "lr", "seed", "test_accuracy", "test_loss", "ms_per_step" }));
            Assert.That(doc.RootElement.GetProperty("bench").GetString(), Is.EqualTo("optimizer"));
            Assert.That(doc.RootElement.GetProperty("data").GetString(), Is.EqualTo("wine"));
            Assert.That(doc.RootElement.GetProperty("test_accuracy").GetDouble(), Is.InRange(0, 1));
        }
        Assert.That(lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("optimizer").GetString()).Distinct(), Is.EquivalentTo(new[] { "sgd", "rmsprop", "adam", "ddpnopt", "kfac", "ddpnopt-kfac" }));
        foreach (var file in new[] { "runs.jsonl", "summary.md", "wine-accuracy-vs-lr.png" }) Assert.That(File.Exists(Path.Combine(dir.Path, file)), file);
    }
}
