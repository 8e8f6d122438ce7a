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
[NonParallelizable]
public class TrainerGoldenTests
{
    private static ModelConfig Config(string kind) => new() { Model = ModelKind.Parse(kind), Input = 36, Classes = 3, Hidden = 10, Seed = 5, ForwardMaxIterations = 20, BackwardMaxIterations = 20 };

    /// <summary>
    /// Every figure of every epoch, the parameters and the last batch's traces, as exact bit patterns. Run at the scalar
    /// vector width, whose IEEE operations are the same on every CPU (a vector width changes summation order and FMA use);
    /// the figures were re-recorded that way when the native backend gained its 256- and 128-bit paths.
    /// </summary>
    internal static string Fingerprint(string kind, string optimizer, int augment)
    {
        SimdWidth.Override = VectorWidth.Scalar;
        try
        {
            return FingerprintAtCurrentWidth(kind, optimizer, augment);
        }
        finally
        {
            SimdWidth.Override = null;
        }
    }

    private static string FingerprintAtCurrentWidth(string kind, string optimizer, int augment)
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
        "3ff00bf1d6666666,3fde666666666666,3fe7600911111111,3fe6666666666666,4010428f5c28f5c3,400f147ae147ae14,3ff0000000000000,3f809fe1902cc6fc;3fe8a2ea9851eb85,3fe947ae147ae148,3fe0b2a322222222,3ff0000000000000,4011c7ae147ae148,400fc28f5c28f5c3,3ff0000000000000,3f69fee1b71d0c71;3fe492912ccccccd,3fec51eb851eb852,3fdeb02b9999999a,3ff0000000000000,4013000000000000,4010570a3d70a3d7,3ff0000000000000,3f0d478171865e67;4070d64cf09da600;5:3ff36da227e68000;5:3ff1bc6e17a5f180")]
    [TestCase("opteq", "sgd", 0, ExpectedResult =
        "3ff14e072e147ae1,3fd51eb851eb851f,3ff092c288888889,3fd7777777777777,4010000000000000,400f8f5c28f5c28f,3ff0000000000000,3f809fe1902cc6fc;3ff021bfd0000000,3fdfae147ae147ae,3fef40b022222222,3fe3333333333333,400ff5c28f5c28f6,400f28f5c28f5c29,3ff0000000000000,3f69fee1b71d0c71;3feee0429c28f5c3,3fe51eb851eb851f,3feec73b33333333,3fe5555555555555,4010000000000000,400ee147ae147ae1,3ff0000000000000,3f0d478171865e67;c058be55d4baf000;5:3ff1bee727e24000;5:3ff0cc248c730b0b")]
    [TestCase("mon", "adamw", 1, ExpectedResult =
        "3ff067ed6147ae14,3fe028f5c28f5c29,3fe4cf9422222222,3ff0000000000000,40291c28f5c28f5c,4022a66666666666,3fef851eb851eb85,3f809fe1902cc6fc;3fe6c4a190a3d70a,3fe91eb851eb851f,3fd50064aaaaaaab,3ff0000000000000,4029d70a3d70a3d7,402363d70a3d70a4,3fef333333333333,3f69fee1b71d0c71;3fde5abab0a3d70a,3fea3d70a3d70a3d,3fd1d61eaaaaaaab,3ff0000000000000,4029000000000000,40223ae147ae147b,3fefd70a3d70a3d7,3f0d478171865e67;c02528cbae29d800;20:400189c1c22d8000;15:3ff232c9aa03f000")]
    [TestCase("deep-opteq", "adam", 1, ExpectedResult =
        "3ff1a4f44b851eb8,3fd570a3d70a3d71,3ff1977aaaaaaaab,3fd5555555555555,4008000000000000,4008000000000000,3ff0000000000000,3f809fe1902cc6fc;3ff1973207ae147b,3fd570a3d70a3d71,3ff1942c66666666,3fd5555555555555,4008000000000000,4008000000000000,3ff0000000000000,3f69fee1b71d0c71;3ff19456c3d70a3d,3fd570a3d70a3d71,3ff19433ddddddde,3fd5555555555555,4008a3d70a3d70a4,4008000000000000,3ff0000000000000,3f0d478171865e67;c060c88bf1083840;5:3ff07669eb272000;5:3ff043d6a8470962")]
    [TestCase("deq", "adam", 1, ExpectedResult =
        "3ff05508ac28f5c3,3fddc28f5c28f5c3,3fe96d6d11111111,3feeeeeeeeeeeeef,40145c28f5c28f5c,4012000000000000,3ff0000000000000,3f809fe1902cc6fc;3fea5742570a3d71,3fe851eb851eb852,3fe359adbbbbbbbc,3ff0000000000000,40146b851eb851ec,4011bd70a3d70a3d,3ff0000000000000,3f69fee1b71d0c71;3fe6e374bd70a3d7,3fec51eb851eb852,3fe21f6400000000,3ff0000000000000,40150f5c28f5c28f,4012051eb851eb85,3ff0000000000000,3f0d478171865e67;404da6b4cee97000;10:3ff3a10513e44000;5:3fceacd442d60000")]
    public string TrainsAsBefore(string kind, string optimizer, int augment) => Fingerprint(kind, optimizer, augment);
}
