using NUnit.Framework;
using OptEq.Autodiff.Checkpoints;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Optimizers.Schedules;
using OptEq.Autodiff.Training;
using OptEq.Kernels.Native;
using static OptEq.Tests.Training.TrainerTests;

namespace OptEq.Tests.Reliability;

/// <summary>Training keeps its best state: best.safetensors, divergence that saves nothing, resume that refuses changed options.</summary>
public class TrainingStateTests
{
    private string _dir = null!;
    [SetUp] public void MakeDirectory() => _dir = Directory.CreateTempSubdirectory("opteq-state-").FullName;
    [TearDown] public void RemoveDirectory() => Directory.Delete(_dir, recursive: true);

    private static ModelConfig Config => new() { Input = 36, Classes = 3, Hidden = 10, Seed = 5, ForwardMaxIterations = 20, BackwardMaxIterations = 20 };
    private static TrainingOptions Options(int epochs, string schedule = "one-cycle") =>
        new() { Epochs = epochs, Batch = 32, LearningRate = 0.01, Seed = 9, AugmentShift = 0, Schedule = ScheduleSpec.Parse(schedule) };

    [Test]
    public void AWorseEpochNeverReplacesTheBestCheckpoint()
    {
        using var device = new NativeCpuDevice();
        var train = Synthetic("train", 96, 3);
        var test = Synthetic("test", 60, 4);
        string checkpoint = Path.Combine(_dir, "checkpoint.safetensors"), best = Trainer.BestCheckpointPath(checkpoint);
        using var model = new Classifier<float>(device, Config);
        using var trainer = new Trainer(device, model, Options(3, "constant") with { LearningRate = 0.05 }, train, test);
        trainer.Run(checkpointPath: checkpoint, stopAfterEpoch: _ => true);
        double good = trainer.History[0].TestAccuracy;
        Assert.That(good, Is.GreaterThan(0.6), "epoch 1 learns the task");
        // Epoch 2 trains on labels that are all class 0: its test accuracy falls to about a third.
        Array.Fill(train.Labels, 0);
        trainer.Run(checkpointPath: checkpoint, stopAfterEpoch: _ => true);
        Assert.That(trainer.History[1].TestAccuracy, Is.LessThan(good));
        Assert.That((Checkpoint.Load(checkpoint).Epoch, Checkpoint.Load(best).Epoch), Is.EqualTo((2L, 1L)), "last is epoch 2, best stays epoch 1");
        Assert.That((trainer.BestEpoch, trainer.BestTestAccuracy), Is.EqualTo((1, good)));
        using var restored = ModelCheckpoint.Load(device, best);
        Assert.That(restored.Parameters().Count(), Is.EqualTo(model.Parameters().Count()));
    }

    [Test]
    public void AnExplodingLossStopsTrainingAndSavesNothing()
    {
        using var device = new NativeCpuDevice();
        var train = Synthetic("train", 96, 3);
        string checkpoint = Path.Combine(_dir, "checkpoint.safetensors");
        using var model = new Classifier<float>(device, Config);
        using var trainer = new Trainer(device, model, Options(3, "constant"), train, train);
        trainer.Run(checkpointPath: checkpoint, stopAfterEpoch: _ => true);
        var before = File.ReadAllBytes(checkpoint);
        using var wild = new Classifier<float>(device, Config);
        using var diverging = new Trainer(device, wild, Options(3, "constant") with { LearningRate = 1e4 }, train, train);
        diverging.Resume(checkpoint, allowOptionChange: true);
        var e = Assert.Throws<TrainingDivergedException>(() => diverging.Run(checkpointPath: checkpoint))!;
        Assert.That(e.Message, Does.Contain("training stopped").And.Contain("epoch 1"));
        Assert.That(File.ReadAllBytes(checkpoint), Is.EqualTo(before), "the diverged run wrote nothing over the checkpoint");
        Assert.That(File.ReadAllBytes(Trainer.BestCheckpointPath(checkpoint)), Is.EqualTo(before), "nor over the best one");
    }

    [Test]
    public void ResumeRestoresHistoryAndBestAndRefusesChangedOptions()
    {
        using var device = new NativeCpuDevice();
        var train = Synthetic("train", 96, 3);
        var test = Synthetic("test", 30, 4);
        string checkpoint = Path.Combine(_dir, "checkpoint.safetensors");
        List<EpochMetrics> history;
        using (var model = new Classifier<float>(device, Config))
        using (var trainer = new Trainer(device, model, Options(3), train, test))
        {
            trainer.Run(checkpointPath: checkpoint, stopAfterEpoch: e => e == 2);
            history = trainer.History;
        }
        using (var model = new Classifier<float>(device, Config))
        using (var trainer = new Trainer(device, model, Options(3), train, test))
        {
            trainer.Resume(checkpoint);
            Assert.That(trainer.History, Is.EqualTo(history));
            Assert.That(trainer.BestTestAccuracy, Is.EqualTo(history.Max(m => m.TestAccuracy)));
        }
        foreach (var (changed, option) in new (TrainingOptions, string)[]
        {
            (Options(3) with { LearningRate = 0.02 }, "--lr"), (Options(3) with { Batch = 16 }, "--batch"), (Options(3, "cosine"), "--schedule"),
            (Options(3) with { WeightDecay = 1e-4 }, "--weight-decay"), (Options(3) with { Seed = 1 }, "--seed"), (Options(3) with { ClipNorm = 1 }, "--clip"),
            (Options(4), "--epochs (the schedule's length)"),
        })
        {
            using var model = new Classifier<float>(device, Config);
            using var trainer = new Trainer(device, model, changed, train, test);
            var e = Assert.Throws<InputException>(() => trainer.Resume(checkpoint))!;
            Assert.That(e.Kind, Is.EqualTo(InputProblem.Option));
            Assert.That(e.Message, Does.Contain(option).And.Contain(checkpoint));
        }
        using (var model = new Classifier<float>(device, Config))
        using (var other = new Trainer(device, model, Options(3), Synthetic("train", 96, 5), test))
            Assert.That(() => other.Resume(checkpoint), Throws.TypeOf<InputException>().With.Message.Contain("training data"));
    }
}
