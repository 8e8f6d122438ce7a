using NUnit.Framework;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Training;
using OptEq.Kernels.Native;

namespace OptEq.Tests.Training;

/// <summary><c>opteq train</c>'s step, as the trainer runs it, allocates nothing once warm.</summary>
[NonParallelizable]
public class TrainerAllocationTests
{
    [Test]
    public void ATrainingStepWithTheDefaultOptionsAllocatesNothingAfterWarmUp()
    {
        using var device = new NativeCpuDevice();
        var options = new TrainingOptions { Epochs = 2 }; // the defaults of opteq train: batch 128, ±2 px shifts, Adam, one-cycle, replay
        Assert.That(options.AugmentShift, Is.GreaterThan(0), "the default run augments");
        var train = TrainerTests.Synthetic("train", 16 * options.Batch, 1);
        var test = TrainerTests.Synthetic("test", 60, 2);
        using var model = new Classifier<float>(device, new ModelConfig { Input = train.Pixels, Classes = train.Classes });
        using var trainer = new Trainer(device, model, options, train, test);
        // Warm-up: capture, then replays fill the pools
        // Rounds of two steps, at most five (batches 4 to 13 of 16: the last one would ask for residual traces). CI once saw
        // 2,648 bytes in one block of two steps, the runtime's one-time work by the look of it; one per step fails every round.
        SteadyStateAllocation.AssertTrainingSteps(trainer, warmUp: 3, stepsPerRound: 2, "training steps with the default options");
    }
}
