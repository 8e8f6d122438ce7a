using NUnit.Framework;
using OptEq.Autodiff;
using OptEq.Autodiff.Checkpoints;
using OptEq.Autodiff.Checks;
using OptEq.Autodiff.Evaluation;
using OptEq.Autodiff.Losses;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Optimizers;
using OptEq.Autodiff.Optimizers.Schedules;
using OptEq.Autodiff.Training;
using OptEq.Autodiff.Validation;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Native;
using OptEq.Tests.Training;

namespace OptEq.Tests.Losses;

/// <summary>The Max-Mahalanobis centre (MMC) loss (docs/math.md §7.9): its centres, value, gradient, prediction rule and training with it.</summary>
[NonParallelizable]
public class MmcLossTests
{
    [TestCase(2, 2)]
    [TestCase(3, 3)]
    [TestCase(10, 10)]
    [TestCase(10, 9, TestName = "CentresHaveNormCAndEqualPairwiseInnerProducts(10 classes in 9 dimensions, the fewest)")]
    [TestCase(7, 12)]
    public void CentresHaveNormCAndEqualPairwiseInnerProducts(int classes, int dim)
    {
        const double c = 10;
        var mu = MaxMahalanobisCentres.Build(classes, dim, c);
        Assert.That(mu, Has.Length.EqualTo(classes * dim));
        double Dot(int i, int j) { double s = 0; for (int k = 0; k < dim; k++) s += mu[i * dim + k] * mu[j * dim + k]; return s; }
        for (int i = 0; i < classes; i++)
        {
            Assert.That(Math.Sqrt(Dot(i, i)), Is.EqualTo(c).Within(1e-12 * c), $"‖μ_{i}‖ = C");
            for (int j = 0; j < i; j++)
                Assert.That(Dot(i, j), Is.EqualTo(-c * c / (classes - 1)).Within(1e-12 * c * c), $"⟨μ_{i}, μ_{j}⟩ = −C²/(L − 1)");
            for (int k = i + 1; k < dim; k++) Assert.That(mu[i * dim + k], Is.Zero, $"μ_{i} has no coordinate beyond its {i}-th");
        }
        for (int k = 0; k < dim; k++)
            Assert.That(Enumerable.Range(0, classes).Sum(i => mu[i * dim + k]), Is.EqualTo(0).Within(1e-12 * c), "the centres sum to zero (a regular simplex about the origin)");
        Assert.That(mu[0], Is.EqualTo(c), "μ_1 = C·e_1");
        Assert.That(MaxMahalanobisCentres.Build(classes, dim, c), Is.EqualTo(mu), "deterministic");
    }

    [Test]
    public void CentresNeedTwoClassesEnoughDimensionsAndAPositiveNorm()
    {
        Assert.That(() => MaxMahalanobisCentres.Build(1, 3, 10), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("at least 2 classes"));
        Assert.That(() => MaxMahalanobisCentres.Build(10, 8, 10), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("at least 9 dimensions"));
        Assert.That(() => MaxMahalanobisCentres.Build(3, 3, 0), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("finite and > 0"));
    }

    [Test]
    public void NamesParseAndRoundTrip()
    {
        Assert.That(ClassificationLoss.Parse("ce"), Is.SameAs(ClassificationLoss.CrossEntropy));
        Assert.That(ClassificationLoss.Parse(" MMC ").Kind, Is.EqualTo(LossKind.Mmc));
        Assert.That(ClassificationLoss.Parse("mmc").CentreNorm, Is.EqualTo(10));
        Assert.That(ClassificationLoss.Parse("mmc:10"), Is.EqualTo(ClassificationLoss.Mmc()), "mmc:10 is mmc");
        Assert.That(ClassificationLoss.Parse("mmc:2.5").CentreNorm, Is.EqualTo(2.5));
        foreach (var name in new[] { "ce", "mmc", "mmc:2.5", "mmc:100" }) Assert.That(ClassificationLoss.Parse(name).Name, Is.EqualTo(name));
        foreach (var bad in new[] { "", "softmax", "mmc:", "mmc:0", "mmc:-1", "mmc:x", "mmc:NaN", "mmc:Infinity" })
            Assert.That(() => ClassificationLoss.Parse(bad), Throws.ArgumentException.With.Message.Contains("valid: ce, mmc"), $"'{bad}'");
        Assert.That(ClassificationLoss.Mmc(10).UninformedLoss(10), Is.EqualTo(50), "½C²: the loss of an output at the origin");
        Assert.That(ClassificationLoss.CrossEntropy.UninformedLoss(10), Is.EqualTo(Math.Log(10)));
    }

    /// <summary>The op's value is (1/N)Σ ½‖f − μ_y‖², its gradient (f − μ_y)/N, and both pass the float64 finite-difference check.</summary>
    [Test]
    public void LossAndGradientMatchTheDefinitionAndFiniteDifferencesInFloat64()
    {
        using var device = new NativeCpuDevice();
        const int n = 5, classes = 4;
        var rng = new Random(3);
        var f = Enumerable.Range(0, n * classes).Select(_ => 6 * rng.NextDouble() - 3).ToArray();
        int[] labels = [3, 0, 1, 3, 2];
        var centres = MaxMahalanobisCentres.Build(classes, classes, 3);
        using var features = device.FromArray(f, n, classes);
        using var mu = device.FromArray(centres, classes, classes);
        using var y = device.FromArray(labels, n);
        using var tape = new Tape<double>(device);
        var x = tape.Leaf(features);
        var loss = Ops.MmcLoss(x, y, mu, out var perRow);
        tape.Backward(loss);

        double expected = 0;
        var expectedGrad = new double[n * classes];
        var expectedRows = new double[n];
        for (int s = 0; s < n; s++)
            for (int j = 0; j < classes; j++)
            {
                double e = f[s * classes + j] - centres[labels[s] * classes + j];
                expectedRows[s] += e * e / 2;
                expectedGrad[s * classes + j] = e / n;
            }
        expected = expectedRows.Sum() / n;
        Assert.That(loss.Value.ToArray()[0], Is.EqualTo(expected).Within(1e-13 * expected));
        Assert.That(perRow.ToArray(), Is.EqualTo(expectedRows).Within(1e-13 * expectedRows.Max()));
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(expectedGrad).Within(1e-15 * 10));

        var check = GradientCheckSuite.Ops(device).Single(r => r.Target == "mmc-loss");
        Assert.That(check.Checked, Is.GreaterThan(0));
        Assert.That(check.Passes, $"finite differences: relative error {check.MaxRelativeError:E2} (worst {check.WorstEntry})");
    }

    /// <summary>The prediction is the nearest centre; with equal norms that is the largest ⟨f, μ_k⟩, which is what is computed.</summary>
    [Test]
    public void ThePredictionIsTheNearestCentre()
    {
        const int classes = 6;
        var centres = MaxMahalanobisCentres.Build(classes, classes, 10);
        var rng = new Random(5);
        for (int trial = 0; trial < 200; trial++)
        {
            var row = Enumerable.Range(0, classes).Select(_ => (float)(20 * rng.NextDouble() - 10)).ToArray();
            int nearest = Enumerable.Range(0, classes).MinBy(k => Enumerable.Range(0, classes).Sum(j => Math.Pow(row[j] - centres[k * classes + j], 2)));
            Assert.That(Predictions.Predict(row, centres), Is.EqualTo(nearest), $"trial {trial}");
        }
        for (int k = 0; k < classes; k++)
            Assert.That(Predictions.Predict(centres.Skip(k * classes).Take(classes).Select(v => (float)v).ToArray(), centres), Is.EqualTo(k), $"μ_{k} itself");
        // Where the rules differ: the largest output is the third, but the nearest of three centres is μ_2.
        var three = MaxMahalanobisCentres.Build(3, 3, 1);
        float[] row3 = [0.1f, 0.2f, 5f];
        Assert.That(Predictions.Predict(row3, []), Is.EqualTo(2), "no centres: the argmax");
        Assert.That(Predictions.Predict(row3, three), Is.EqualTo(1), "the nearest centre");
        var confusion = new int[classes, classes];
        var rows = centres.Select(v => (float)v).ToArray();
        Assert.That(Predictions.CountCorrect(rows, [0, 1, 2, 3, 4, 0], classes, confusion, centres), Is.EqualTo(5));
        Assert.That(confusion[0, 5], Is.EqualTo(1), "the row μ_6 labelled 0 is counted as (label 0, predicted 5)");
    }

    private static ModelConfig Mlp(int seed) => new() { Model = ModelKind.Mlp, Input = 36, Classes = 3, Layers = [12, 12], Activation = Activation.Tanh, Seed = seed };

    private static TrainingOptions MmcOptions(OptimizerKind optimizer = OptimizerKind.Adam) => new()
    {
        Epochs = 5, Batch = 16, LearningRate = 0.03, AugmentShift = 0, Optimizer = optimizer, Loss = ClassificationLoss.Mmc(),
        Schedule = ScheduleSpec.Parse("constant"),
    };

    /// <summary>
    /// Trained with MMC, the model learns the synthetic set, and the evaluator's loss and accuracy are those of a plain
    /// loop written here: ½‖f − μ_y‖² averaged, and the nearest centre by distance.
    /// </summary>
    [TestCase(OptimizerKind.Adam)]
    [TestCase(OptimizerKind.Ddpnopt)]
    public void TrainingWithMmcLearnsAndTheEvaluatorPredictsTheNearestCentre(OptimizerKind optimizer)
    {
        using var device = new NativeCpuDevice();
        var train = TrainerTests.Synthetic("train", 96, 1);
        var test = TrainerTests.Synthetic("test", 60, 2);
        using var model = new Classifier<float>(device, Mlp(4));
        using var trainer = new Trainer(device, model, MmcOptions(optimizer), train, test);
        trainer.Run();
        var result = trainer.Evaluate(test);

        var centres = MaxMahalanobisCentres.Build(3, 3, 10);
        using var images = device.FromArray(test.Images, test.Count, test.Pixels);
        using var tape = Tape<float>.NoGrad(device);
        var outputs = model.Forward(tape.Constant(images)).Value.ToArray();
        double lossSum = 0;
        int correct = 0;
        for (int s = 0; s < test.Count; s++)
        {
            var distances = Enumerable.Range(0, 3).Select(k => Enumerable.Range(0, 3).Sum(j => Math.Pow(outputs[s * 3 + j] - centres[k * 3 + j], 2))).ToArray();
            lossSum += distances[test.Labels[s]] / 2;
            if (Array.IndexOf(distances, distances.Min()) == test.Labels[s]) correct++;
        }
        Assert.That(result.Accuracy, Is.EqualTo(correct / (double)test.Count), "accuracy by the nearest centre");
        Assert.That(result.Loss, Is.EqualTo(lossSum / test.Count).Within(1e-5 * lossSum / test.Count), "the mean MMC loss");
        Assert.That(trainer.History[^1].TrainLoss, Is.LessThan(0.5 * ClassificationLoss.Mmc().UninformedLoss(3)), "the training loss fell well below ½C² (the output at the origin)");
        Assert.That(result.Accuracy, Is.GreaterThan(0.9), "learned (chance is 1/3)");
    }

    /// <summary>The checkpoint records the loss; eval reads it back (so it predicts by the centres); a record without it is the cross-entropy; resuming with another loss is refused by name.</summary>
    [Test]
    public void TheCheckpointRecordsTheLossAndAResumeWithAnotherLossIsRefused()
    {
        using var device = new NativeCpuDevice();
        using var dir = new Data.TempDirectory();
        var train = TrainerTests.Synthetic("train", 48, 1);
        var test = TrainerTests.Synthetic("test", 30, 2);
        string path = dir.File("checkpoint.safetensors");
        using (var model = new Classifier<float>(device, Mlp(4)))
        using (var trainer = new Trainer(device, model, MmcOptions() with { Epochs = 2 }, train, test))
        {
            trainer.Run(checkpointPath: path, stopAfterEpoch: e => e >= 1);
        }
        var checkpoint = Checkpoint.Load(path);
        var record = TrainingRecord.FromJson(checkpoint.Training!, path);
        Assert.That(record.Loss, Is.EqualTo("mmc"));
        Assert.That(checkpoint.Metadata[ModelCard.ForwardKey], Does.Contain("nearest to the last output").And.Contain("‖μ_k‖ = 10"));
        using (var loaded = ModelCheckpoint.LoadWithLoss(device, path, out var loss)) Assert.That(loss, Is.EqualTo(ClassificationLoss.Mmc()));

        var old = System.Text.Json.Nodes.JsonNode.Parse(checkpoint.Training!)!.AsObject();
        Assert.That(old.Remove("loss"), "the record has a 'loss' key");
        Assert.That(TrainingRecord.FromJson(old.ToJsonString(), "old").Loss, Is.EqualTo("ce"), "a record written before the loss was kept: the cross-entropy");

        using var again = new Classifier<float>(device, Mlp(4));
        using var resumed = new Trainer(device, again, MmcOptions() with { Epochs = 2, Loss = ClassificationLoss.CrossEntropy }, train, test);
        Assert.That(() => resumed.Resume(path), Throws.TypeOf<InputException>().With.Message.Contains("--loss: mmc in the checkpoint, ce now"));
    }

    /// <summary>After warm-up a training step under MMC allocates nothing, on the tape's replayed step and on DDPNOpt's own.</summary>
    [TestCase(OptimizerKind.Adam)]
    [TestCase(OptimizerKind.Ddpnopt)]
    public void AnMmcTrainingStepAllocatesNothingAfterWarmUp(OptimizerKind optimizer)
    {
        using var device = new NativeCpuDevice();
        var options = MmcOptions(optimizer) with { Batch = 32, Epochs = 2, AugmentShift = 1 };
        var train = TrainerTests.Synthetic("train", 12 * options.Batch, 1);
        var test = TrainerTests.Synthetic("test", 30, 2);
        using var model = new Classifier<float>(device, Mlp(5));
        using var trainer = new Trainer(device, model, options, train, test);
        SteadyStateAllocation.AssertTrainingSteps(trainer, warmUp: 3, stepsPerRound: 1, $"an MMC training step with {optimizer}");
    }
}
