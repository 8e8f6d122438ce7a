using System.Globalization;
using NUnit.Framework;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Optimizers.Schedules;
using OptEq.Autodiff.Optimizers;
using OptEq.Autodiff.Training;
using OptEq.Kernels.Native;

namespace OptEq.Tests.Training;

/// <summary>
/// Training on the CPU gives the same numbers, bit for bit, as the trainer did before it was split into one file per
/// concern (figures captured from that trainer): batch order, augmentation, optimizer, schedule, evaluation and traces.
/// </summary>
public class TrainerGoldenTests
{
    private static ModelConfig Config(string kind) => new() { Model = ModelKind.Parse(kind), Input = 36, Classes = 3, Hidden = 10, Seed = 5, ForwardMaxIterations = 20, BackwardMaxIterations = 20 };

    /// <summary>Every figure of every epoch, the parameters and the last batch's traces, as exact bit patterns.</summary>
    internal static string Fingerprint(string kind, string optimizer, int augment)
    {
        using var device = new NativeCpuDevice();
        var train = TrainerTests.Synthetic("train", 200, 1);
        var test = TrainerTests.Synthetic("test", 60, 2);
        using var model = new Classifier<float>(device, Config(kind));
        var options = new TrainingOptions { Epochs = 3, Batch = 32, LearningRate = 0.01, Seed = 9, AugmentShift = augment, Schedule = ScheduleSpec.Parse("cosine"), Optimizer = OptimizerFactory.Parse(optimizer), WeightDecay = 1e-4, ClipNorm = 5 };
        using var trainer = new Trainer(device, model, options, train, test);
        trainer.Run();
        var parts = new List<string>();
        static string B(double x) => BitConverter.DoubleToInt64Bits(x).ToString("x16", CultureInfo.InvariantCulture);
        foreach (var m in trainer.History)
            parts.Add(string.Join(",", new[] { m.TrainLoss, m.TrainAccuracy, m.TestLoss, m.TestAccuracy, m.ForwardIterations, m.BackwardIterations, m.ForwardConverged, m.LearningRate }.Select(B)));
        double weighted = 0;
        long index = 0;
        foreach (var p in model.Parameters())
            foreach (float v in p.Value.ToArray()) weighted += v * (double)(++index % 97 + 1);
        parts.Add(B(weighted));
        parts.Add(trainer.LastForwardTrace.Length + ":" + B(trainer.LastForwardTrace.Sum()));
        parts.Add(trainer.LastBackwardTrace.Length + ":" + B(trainer.LastBackwardTrace.Sum()));
        return string.Join(";", parts);
    }

    [TestCase("opteq", "adam", 1, ExpectedResult =
        "3ff00bf1dccccccd,3fde666666666666,3fe7600911111111,3fe6666666666666,4010428f5c28f5c3,400f147ae147ae14,3ff0000000000000,3f809fe1902cc6fc;3fe8a2eaa3d70a3d,3fe947ae147ae148,3fe0b2a344444444,3ff0000000000000,4011c7ae147ae148,400fc28f5c28f5c3,3ff0000000000000,3f69fee1b71d0c71;3fe49291228f5c29,3fec51eb851eb852,3fdeb02bddddddde,3ff0000000000000,4013000000000000,4010570a3d70a3d7,3ff0000000000000,3f0d478171865e67;4070d64ced0ad000;5:3ff36da215e5e000;5:3ff1bc6e0a80a6c0")]
    [TestCase("opteq", "sgd", 0, ExpectedResult =
        "3ff14e073d70a3d7,3fd51eb851eb851f,3ff092c266666666,3fd7777777777777,4010000000000000,400f8f5c28f5c28f,3ff0000000000000,3f809fe1902cc6fc;3ff021bfd0a3d70a,3fdfae147ae147ae,3fef40b000000000,3fe3333333333333,400ff5c28f5c28f6,400f28f5c28f5c29,3ff0000000000000,3f69fee1b71d0c71;3feee042a147ae14,3fe51eb851eb851f,3feec73b77777777,3fe5555555555555,4010000000000000,400ee147ae147ae1,3ff0000000000000,3f0d478171865e67;c058be55c4c43000;5:3ff1bee6f5cd8000;5:3ff0cc248a20178b")]
    [TestCase("mon", "adamw", 1, ExpectedResult =
        "3ff067ed60a3d70a,3fe028f5c28f5c29,3fe4cf9422222222,3ff0000000000000,40291c28f5c28f5c,4022a66666666666,3fef851eb851eb85,3f809fe1902cc6fc;3fe6c4a0b999999a,3fe91eb851eb851f,3fd5006511111111,3ff0000000000000,4029d70a3d70a3d7,402363d70a3d70a4,3fef333333333333,3f69fee1b71d0c71;3fde5adf2147ae14,3fea3d70a3d70a3d,3fd1d620eeeeeeef,3ff0000000000000,4029028f5c28f5c3,40223ae147ae147b,3fefd70a3d70a3d7,3f0d478171865e67;c02528bae2940000;20:400189c21e252000;15:3ff232c7fa66c000")]
    [TestCase("deep-opteq", "adam", 1, ExpectedResult =
        "3ff1a4f44b851eb8,3fd570a3d70a3d71,3ff1977aaaaaaaab,3fd5555555555555,4008000000000000,4008000000000000,3ff0000000000000,3f809fe1902cc6fc;3ff1973207ae147b,3fd570a3d70a3d71,3ff1942caaaaaaab,3fd5555555555555,4008000000000000,4008000000000000,3ff0000000000000,3f69fee1b71d0c71;3ff19456dd70a3d7,3fd570a3d70a3d71,3ff19433bbbbbbbc,3fd5555555555555,4008a3d70a3d70a4,4008000000000000,3ff0000000000000,3f0d478171865e67;c060c88bdf573a40;5:3ff07669fd0bc000;5:3ff043d6a212c272")]
    [TestCase("deq", "adam", 1, ExpectedResult =
        "3ff05508ac28f5c3,3fddc28f5c28f5c3,3fe96d6ceeeeeeef,3feeeeeeeeeeeeef,40145c28f5c28f5c,4012000000000000,3ff0000000000000,3f809fe1902cc6fc;3fea57425c28f5c3,3fe851eb851eb852,3fe359ad77777777,3ff0000000000000,40146b851eb851ec,4011bd70a3d70a3d,3ff0000000000000,3f69fee1b71d0c71;3fe6e374c28f5c29,3fec51eb851eb852,3fe21f6444444444,3ff0000000000000,40150f5c28f5c28f,4012051eb851eb85,3ff0000000000000,3f0d478171865e67;404da6b4df1d4000;10:3ff3a1052ebe0000;5:3fceacd4937b0000")]
    public string TrainsAsBefore(string kind, string optimizer, int augment) => Fingerprint(kind, optimizer, augment);
}
