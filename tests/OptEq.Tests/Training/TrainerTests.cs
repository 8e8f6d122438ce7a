using NUnit.Framework;
using OptEq.Autodiff.Checkpoints;
using OptEq.Autodiff.Data;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Optimizers.Schedules;
using OptEq.Autodiff.Training;
using OptEq.Kernels.Native;

namespace OptEq.Tests.Training;

public class TrainerTests
{
    private string _dir = null!;

    [SetUp] public void MakeDirectory() => _dir = Directory.CreateTempSubdirectory("opteq-trainer-").FullName;
    [TearDown] public void RemoveDirectory() => Directory.Delete(_dir, recursive: true);

    /// <summary>A small synthetic image task: 3 classes from which quadrant of a 6×6 image is brightest.</summary>
    internal static Dataset Synthetic(string name, int count, int seed)
    {
        var rng = new Random(seed);
        const int side = 6;
        var images = new float[count * side * side];
        var labels = new int[count];
        for (int s = 0; s < count; s++)
        {
            labels[s] = s % 3;
            for (int p = 0; p < side * side; p++) images[s * side * side + p] = (float)(0.3 * rng.NextDouble());
            int r0 = labels[s] == 0 ? 0 : 3, c0 = labels[s] == 2 ? 3 : 0;
            for (int r = r0; r < r0 + 3; r++) for (int c = c0; c < c0 + 3; c++) images[s * side * side + r * side + c] += 0.7f;
        }
        return new Dataset(name, images, labels, side, side, 3);
    }

    private static ModelConfig Config => new() { Input = 36, Classes = 3, Hidden = 10, Seed = 5, ForwardMaxIterations = 20, BackwardMaxIterations = 20 };
    private static TrainingOptions Options(int epochs) => new() { Epochs = epochs, Batch = 32, LearningRate = 0.01, Seed = 9, AugmentShift = 1, Schedule = ScheduleSpec.Parse("cosine") };

    /// <summary>Replaying the captured step for every full batch trains exactly as recording every batch does (the last batch of 200 is partial).</summary>
    [TestCase("opteq")]
    [TestCase("mon")]
    [TestCase("deq")]
    public void ReplayedStepsTrainExactlyAsRecordedOnes(string kind)
    {
        using var device = new NativeCpuDevice();
        var train = Synthetic("train", 200, 1);
        var test = Synthetic("test", 60, 2);
        (List<EpochMetrics> History, float[][] Parameters) Run(bool replay)
        {
            using var model = new Classifier<float>(device, Config with { Model = ModelKind.Parse(kind) });
            using var trainer = new Trainer(device, model, Options(2) with { ReplaySteps = replay }, train, test);
            trainer.Run();
            return (trainer.History, model.Parameters().Select(p => p.Value.ToArray()).ToArray());
        }
        var recorded = Run(replay: false);
        var replayed = Run(replay: true);
        for (int e = 0; e < recorded.History.Count; e++)
        {
            Assert.That(replayed.History[e].TrainLoss, Is.EqualTo(recorded.History[e].TrainLoss), $"epoch {e + 1} train loss");
            Assert.That(replayed.History[e].TestAccuracy, Is.EqualTo(recorded.History[e].TestAccuracy), $"epoch {e + 1} test accuracy");
        }
        for (int i = 0; i < recorded.Parameters.Length; i++)
            Assert.That(replayed.Parameters[i], Is.EqualTo(recorded.Parameters[i]), $"parameter {i}");
    }

    [Test]
    public void ResumingContinuesExactlyAsAnUninterruptedRun()
    {
        using var device = new NativeCpuDevice();
        var train = Synthetic("train", 200, 1);
        var test = Synthetic("test", 60, 2);
        List<EpochMetrics> uninterrupted;
        float[][] finalParameters;
        using (var model = new Classifier<float>(device, Config))
        using (var trainer = new Trainer(device, model, Options(3), train, test))
        {
            trainer.Run();
            uninterrupted = trainer.History;
            finalParameters = model.Parameters().Select(p => p.Value.ToArray()).ToArray();
        }
        string checkpoint = Path.Combine(_dir, "checkpoint.safetensors");
        using (var model = new Classifier<float>(device, Config))
        using (var trainer = new Trainer(device, model, Options(3), train, test))
            trainer.Run(checkpointPath: checkpoint, stopAfterEpoch: epoch => epoch == 1);
        using (var model = new Classifier<float>(device, Config))
        using (var trainer = new Trainer(device, model, Options(3), train, test))
        {
            trainer.Resume(checkpoint);
            Assert.That(trainer.CompletedEpochs, Is.EqualTo(1));
            trainer.Run();
            // The history continues across the resume: epoch 1 from the checkpoint, then 2 and 3, equal to the uninterrupted run's.
            Assert.That(trainer.History.Select(h => h.Epoch), Is.EqualTo(new[] { 1, 2, 3 }));
            Assert.That(trainer.History.Select(h => h.TrainLoss), Is.EqualTo(uninterrupted.Select(h => h.TrainLoss)));
            Assert.That(trainer.History.Select(h => h.TestAccuracy), Is.EqualTo(uninterrupted.Select(h => h.TestAccuracy)));
            var resumed = model.Parameters().Select(p => p.Value.ToArray()).ToArray();
            for (int p = 0; p < resumed.Length; p++) Assert.That(resumed[p], Is.EqualTo(finalParameters[p]), $"parameter {p}");
        }
        Assert.That(uninterrupted[^1].TrainLoss, Is.LessThan(uninterrupted[0].TrainLoss));
    }

    [Test]
    public void ALossThatTurnsNaNStopsTrainingAndKeepsTheLastGoodCheckpoint()
    {
        using var device = new NativeCpuDevice();
        var train = Synthetic("train", 96, 3);
        var test = Synthetic("test", 30, 4);
        string checkpoint = Path.Combine(_dir, "checkpoint.safetensors");
        using var model = new Classifier<float>(device, Config);
        using var trainer = new Trainer(device, model, Options(3), train, test);
        trainer.Run(checkpointPath: checkpoint, stopAfterEpoch: _ => true);
        // Corrupt the data after epoch 1: the next forward pass produces NaN logits.
        train.Images[0] = float.NaN;
        for (int i = 0; i < train.Images.Length; i += 36) train.Images[i] = float.NaN;
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Run(checkpointPath: checkpoint))!;
        Assert.That(e.Message, Does.Contain("NaN").And.Contain("epoch 2, batch 1").And.Contain("checkpoint of epoch 1 was kept"));
        var saved = Checkpoint.Load(checkpoint);
        Assert.That(saved.Epoch, Is.EqualTo(1));
        using var restored = ModelCheckpoint.Load(device, checkpoint);
        Assert.That(restored.Parameters().SelectMany(p => p.Value.ToArray()).All(float.IsFinite), Is.True);
    }

    [Test]
    public void ACheckpointOfAnotherModelIsAClearError()
    {
        using var device = new NativeCpuDevice();
        var train = Synthetic("train", 64, 5);
        string checkpoint = Path.Combine(_dir, "checkpoint.safetensors");
        using (var model = new Classifier<float>(device, Config))
        using (var trainer = new Trainer(device, model, Options(1), train, train))
            trainer.Save(checkpoint);
        using var other = new Classifier<float>(device, Config with { Hidden = 12 });
        using var otherTrainer = new Trainer(device, other, Options(1), train, train);
        var e = Assert.Throws<InputException>(() => otherTrainer.Resume(checkpoint))!;
        Assert.That(e.Message, Does.Contain(checkpoint).And.Contain("another model"));
    }

    [Test]
    public void DataOfTheWrongShapeIsAClearError()
    {
        using var device = new NativeCpuDevice();
        var train = Synthetic("train", 64, 6);
        using var model = new Classifier<float>(device, Config with { Input = 784 });
        Assert.That(() => new Trainer(device, model, Options(1), train, train),
            Throws.TypeOf<OptEq.Kernels.ShapeException>().With.Message.Contains("784 inputs").And.Message.Contains("36 pixels"));
    }
}
