using System.Text.Json;
using NUnit.Framework;

using static OptEq.Tests.Training.InProcessCli;

namespace OptEq.Tests.Training;

/// <summary><c>opteq train --model cnn</c> (with ddpnopt) and <c>opteq optimizers compare --network cnn</c> end to end, on the bundled 8×8 DIGITS set.</summary>
[NonParallelizable]
public class CliCnnTests
{
    [Test]
    public void TrainsACnnWithDdpnOptOnDigits()
    {
        using var dir = new Data.TempDirectory();
        var (exit, output, error) = Run("train", "--data", Digits, "--model", "cnn", "--optimizer", "ddpnopt", "--channels", "4,8", "--injection-stride", "1",
            "--pool", "2", "--augment", "0", "--epochs", "1", "--batch", "64", "--lr", "0.003", "--device", "cpu", "--out", dir.Path);
        Assert.That(exit, Is.Zero, error);
        Assert.That(File.Exists(Path.Combine(dir.Path, "checkpoint.safetensors")), "a checkpoint was written");
        Assert.That(output, Does.Contain("cnn"));
        var checkpoint = OptEq.Autodiff.Checkpoints.Checkpoint.Load(Path.Combine(dir.Path, "checkpoint.safetensors"));
        Assert.That(checkpoint.Tensors.Select(t => t.Name), Does.Contain("model.conv.1.weight").And.Contain("model.head.weight"));
    }

    [Test]
    public void TheCnnWithTheKroneckerPreconditionerIsAClearError()
    {
        using var dir = new Data.TempDirectory();
        var (exit, _, error) = Run("train", "--data", Digits, "--model", "cnn", "--optimizer", "ddpnopt", "--ddpn-base", "sgd", "--ddpn-precond", "kfac",
            "--channels", "4", "--augment", "0", "--epochs", "1", "--device", "cpu", "--out", dir.Path);
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("kfac preconditioner covers linear layers only").And.Not.Contain("   at "));
    }

    [Test]
    public void CompareRunsTheCnnNetworkWithoutTheKroneckerOptimizers()
    {
        using var dir = new Data.TempDirectory();
        var (exit, output, error) = Run("optimizers", "compare", "--json", "--network", "cnn", "--data", "digits", "--seeds", "1", "--epochs", "1",
            "--optimizers", "adam,ddpnopt", "--vanishing", "false", "--timing", "false", "--device", "cpu", "--out", dir.Path);
        Assert.That(exit, Is.Zero, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(6), "2 optimizers × 3 learning rates × 1 seed");
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            Assert.That(doc.RootElement.GetProperty("data").GetString(), Is.EqualTo("digits-cnn"));
            Assert.That(doc.RootElement.GetProperty("test_accuracy").GetDouble(), Is.InRange(0, 1));
        }
        Assert.That(File.ReadAllText(Path.Combine(dir.Path, "summary.md")), Does.Contain("cnn 1×8×8"));

        (exit, _, error) = Run("optimizers", "compare", "--network", "cnn", "--data", "digits", "--optimizers", "kfac", "--device", "cpu", "--out", dir.Path);
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("cannot train the cnn network").And.Not.Contain("   at "));
        (exit, _, error) = Run("optimizers", "compare", "--network", "cnn", "--data", "wine", "--device", "cpu", "--out", dir.Path);
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("square images").And.Not.Contain("   at "));
    }
}
