using System.Text.Json;
using NUnit.Framework;

using static OptEq.Tests.Training.InProcessCli;

namespace OptEq.Tests.Training;

/// <summary><c>opteq train --loss mmc</c>, <c>opteq eval</c> of what it wrote, and the vanishing case's <c>--vanishing-loss</c>, end to end on the bundled DIGITS.</summary>
[NonParallelizable]
public class CliMmcTests
{
    /// <summary>Trains an mlp with MMC (and with DDPNOpt under MMC); eval reads the loss from the checkpoint and reports the trainer's accuracy.</summary>
    [TestCase("adam")]
    [TestCase("ddpnopt")]
    public void TrainsWithMmcAndEvalPredictsByTheCentres(string optimizer)
    {
        using var dir = new Data.TempDirectory();
        var (exit, _, error) = Run("train", "--model", "mlp", "--layers", "32,32", "--activation", "tanh", "--loss", "mmc", "--optimizer", optimizer, "--data", Digits,
            "--augment", "0", "--epochs", "2", "--batch", "64", "--lr", "0.003", "--device", "cpu", "--out", dir.Path);
        Assert.That(exit, Is.Zero, error);
        string checkpoint = Path.Combine(dir.Path, "checkpoint.safetensors");
        var record = OptEq.Autodiff.Training.TrainingRecord.FromJson(OptEq.Autodiff.Checkpoints.Checkpoint.Load(checkpoint).Training!, checkpoint);
        Assert.That(record.Loss, Is.EqualTo("mmc"));
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, "metrics.json")));

        (exit, var output, error) = Run("eval", "--checkpoint", checkpoint, "--data", Digits, "--json", "--device", "cpu");
        Assert.That(exit, Is.Zero, error);
        using var eval = JsonDocument.Parse(output);
        Assert.That(eval.RootElement.GetProperty("loss_kind").GetString(), Is.EqualTo("mmc"));
        double accuracy = eval.RootElement.GetProperty("accuracy").GetDouble();
        Assert.That(accuracy, Is.EqualTo(metrics.RootElement.GetProperty("final_test_accuracy").GetDouble()), "the trainer's and eval's accuracy: one rule");
        Assert.That(accuracy, Is.GreaterThan(0.5), "two epochs on DIGITS learn something (chance is 10 %)");
    }

    [Test]
    public void ABadLossIsAClearErrorAndMmcIsRefusedWithGrowth()
    {
        using var dir = new Data.TempDirectory();
        var (exit, _, error) = Run("train", "--model", "mlp", "--loss", "hinge", "--data", Digits, "--epochs", "1", "--device", "cpu", "--out", dir.Path);
        Assert.That(exit, Is.Not.Zero);
        Assert.That(error, Does.Contain("unknown loss 'hinge'").And.Contain("valid: ce, mmc").And.Not.Contain("   at "));
        (exit, _, error) = Run("train", "--model", "mlp", "--loss", "mmc:-3", "--data", Digits, "--epochs", "1", "--device", "cpu", "--out", dir.Path);
        Assert.That(exit, Is.Not.Zero);
        Assert.That(error, Does.Contain("unknown loss 'mmc:-3'").And.Not.Contain("   at "));
        (exit, _, error) = Run("train", "--loss", "mmc", "--grow", "random", "--data", Digits, "--augment", "0", "--epochs", "1", "--device", "cpu", "--out", dir.Path);
        Assert.That(exit, Is.Not.Zero);
        Assert.That(error, Does.Contain("--loss").And.Contain("not supported with --grow").And.Not.Contain("   at "));
    }

    /// <summary>The vanishing case on one seed and one epoch: its JSON and summary name the loss (MMC by default, CE when asked).</summary>
    [Test]
    public void TheVanishingCaseNamesItsLoss()
    {
        using var dir = new Data.TempDirectory();
        var (exit, output, error) = Run("optimizers", "compare", "--seeds", "0", "--timing", "false", "--data", "digits", "--epochs", "1", "--vanishing-seeds", "1",
            "--device", "cpu", "--out", dir.Path);
        Assert.That(exit, Is.Zero, error);
        using (var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, "vanishing.json"))))
        {
            Assert.That(json.RootElement.GetProperty("loss").GetString(), Is.EqualTo("mmc"));
            Assert.That(json.RootElement.GetProperty("runs").GetArrayLength(), Is.EqualTo(7), "7 optimizers × 1 seed");
        }
        Assert.That(File.ReadAllText(Path.Combine(dir.Path, "summary.md")), Does.Contain("(loss: mmc)").And.Contain("MMC loss"));
        (exit, _, error) = Run("optimizers", "compare", "--seeds", "0", "--timing", "false", "--data", "digits", "--vanishing-loss", "ce", "--epochs", "1",
            "--vanishing-seeds", "1", "--device", "cpu", "--out", dir.Path);
        Assert.That(exit, Is.Zero, error);
        using (var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, "vanishing.json"))))
            Assert.That(json.RootElement.GetProperty("loss").GetString(), Is.EqualTo("ce"));
        (exit, _, error) = Run("optimizers", "compare", "--seeds", "0", "--timing", "false", "--vanishing-loss", "l2", "--device", "cpu", "--out", dir.Path);
        Assert.That(exit, Is.Not.Zero);
        Assert.That(error, Does.Contain("unknown loss 'l2'").And.Not.Contain("   at "));
    }
}
