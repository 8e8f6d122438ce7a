using System.Text.Json;
using NUnit.Framework;
using OptEq.Autodiff;
using OptEq.Autodiff.Optimizers;
using OptEq.Autodiff.Training;
using OptEq.Kernels.Native;

namespace OptEq.Tests.Optimizers;

public class OptimizerFactoryTests
{
    [TestCase("adam", OptimizerKind.Adam)]
    [TestCase("AdamW", OptimizerKind.AdamW)]
    [TestCase(" sgd ", OptimizerKind.Sgd)]
    [TestCase("rmsprop", OptimizerKind.Rmsprop)]
    [TestCase("ddpnopt", OptimizerKind.Ddpnopt)]
    public void NamesParseToKindsAndBack(string name, OptimizerKind kind)
    {
        Assert.That(OptimizerFactory.Parse(name), Is.EqualTo(kind));
        Assert.That(OptimizerFactory.Name(kind), Is.EqualTo(name.Trim().ToLowerInvariant()));
    }

    [Test]
    public void AnUnknownNameListsTheValidOnes()
        => Assert.That(() => OptimizerFactory.Parse("lion"),
            Throws.ArgumentException.With.Message.Contains("unknown optimizer 'lion'").And.Message.Contains("adam, adamw, sgd"));

    [Test]
    public void EveryKindHasANameAndBuildsItsOptimizer()
    {
        Assert.That(Enum.GetValues<OptimizerKind>().Select(OptimizerFactory.Name), Is.EqualTo(OptimizerFactory.Names));
        using var device = new NativeCpuDevice();
        using var p = new Parameter<float>("p", device.FromArray(new[] { 1f, 2f }, 2));
        using (var adam = OptimizerFactory.Create(OptimizerKind.Adam, [p], 0.1, 0.01))
            Assert.That(adam, Is.TypeOf<Adam<float>>().And.Property("LearningRate").EqualTo(0.1));
        using (var adamW = OptimizerFactory.Create(OptimizerKind.AdamW, [p], 0.1, 0.01))
            Assert.That(((AdamW<float>)adamW).Options.WeightDecay, Is.EqualTo(0.01));
        using (var sgd = OptimizerFactory.Create(OptimizerKind.Sgd, [p], 0.1))
            Assert.That(((Sgd<float>)sgd).Options, Is.EqualTo(new SgdOptions { LearningRate = 0.1, Momentum = 0.9, Nesterov = true }));
        using (var rmsprop = OptimizerFactory.Create(OptimizerKind.Rmsprop, [p], 0.1))
            Assert.That(((Rmsprop<float>)rmsprop).Options, Is.EqualTo(new RmspropOptions { LearningRate = 0.1 }));
    }

    [Test]
    public void TrainingOptionsWriteTheOptimizerAsItsName()
    {
        string json = JsonSerializer.Serialize(new TrainingOptions { Optimizer = OptimizerKind.AdamW });
        Assert.That(json, Does.Contain("\"Optimizer\":\"adamw\""));
        Assert.That(JsonSerializer.Deserialize<TrainingOptions>(json)!.Optimizer, Is.EqualTo(OptimizerKind.AdamW));
        Assert.That(() => JsonSerializer.Deserialize<OptimizerKind>("\"lion\""), Throws.TypeOf<JsonException>().With.Message.Contains("adam, adamw, sgd, rmsprop, ddpnopt"));
    }
}
