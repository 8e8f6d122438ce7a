using NUnit.Framework;
using OptEq.Autodiff.Optimizers.Schedules;

namespace OptEq.Tests.Optimizers;

public class ScheduleTests
{
    private const double Tight = 1e-15;

    [Test]
    public void ConstantIsConstant()
    {
        var s = new ConstantSchedule(0.1);
        Assert.That(new[] { 0, 1, 1000 }.Select(s.LearningRate), Is.All.EqualTo(0.1));
        Assert.That(() => s.LearningRate(-1), Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("step"));
    }

    [Test]
    public void StepDecayMultipliesEveryNSteps()
    {
        var s = new StepDecaySchedule(1.0, every: 30, gamma: 0.1);
        Assert.That(s.LearningRate(0), Is.EqualTo(1.0));
        Assert.That(s.LearningRate(29), Is.EqualTo(1.0));
        Assert.That(s.LearningRate(30), Is.EqualTo(0.1).Within(Tight));
        Assert.That(s.LearningRate(59), Is.EqualTo(0.1).Within(Tight));
        Assert.That(s.LearningRate(60), Is.EqualTo(0.01).Within(Tight));
    }

    [Test]
    public void CosineAnnealsFromBaseToMin()
    {
        var s = new CosineSchedule(1.0, totalSteps: 100, minLearningRate: 0.1);
        Assert.That(s.LearningRate(0), Is.EqualTo(1.0));
        Assert.That(s.LearningRate(25), Is.EqualTo(0.1 + 0.9 * (1 + Math.Sqrt(0.5)) / 2).Within(Tight));
        Assert.That(s.LearningRate(50), Is.EqualTo(0.55).Within(Tight));
        Assert.That(s.LearningRate(99), Is.GreaterThan(0.1).And.LessThan(0.1 + 1e-3), "the last step is just above min, as PyTorch's CosineAnnealingLR");
        Assert.That(s.LearningRate(100), Is.EqualTo(0.1).Within(Tight));
        Assert.That(s.LearningRate(500), Is.EqualTo(0.1), "held at min after the end");
    }

    [Test]
    public void CosineWarmUpRisesLinearlyToThePeak()
    {
        var s = new CosineSchedule(1.0, totalSteps: 110, minLearningRate: 0, warmupSteps: 10);
        Assert.That(s.LearningRate(0), Is.EqualTo(1.0 / 11).Within(Tight));
        Assert.That(s.LearningRate(4), Is.EqualTo(5.0 / 11).Within(Tight));
        Assert.That(s.LearningRate(9), Is.EqualTo(10.0 / 11).Within(Tight));
        Assert.That(s.LearningRate(10), Is.EqualTo(1.0), "the peak ends the warm-up");
        Assert.That(s.LearningRate(60), Is.EqualTo(0.5).Within(Tight));
        Assert.That(s.LearningRate(110), Is.EqualTo(0.0).Within(Tight));
        Assert.That(() => new CosineSchedule(1.0, 10, warmupSteps: 10), Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("warmupSteps"));
        Assert.That(() => new CosineSchedule(0.1, 10, minLearningRate: 0.2), Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("minLearningRate"));
    }

    /// <summary>PyTorch OneCycleLR(max_lr=1, total_steps=100): starts at 1/25, peaks at step 29 (0.3·100 − 1), ends at 1/25/1e4 on step 99.</summary>
    [Test]
    public void OneCycleStartsPeaksAndEndsAsPyTorch()
    {
        var s = new OneCycleSchedule(1.0, totalSteps: 100);
        const double initial = 0.04, min = 0.04 / 1e4;
        Assert.That(s.LearningRate(0), Is.EqualTo(initial).Within(Tight));
        Assert.That(s.LearningRate(29), Is.EqualTo(1.0).Within(Tight), "peak");
        Assert.That(s.LearningRate(99), Is.EqualTo(min).Within(Tight), "end");
        Assert.That(s.LearningRate(1000), Is.EqualTo(min), "held after the end");
        // Mid-phase values: warm-up half-way at step 14.5 is between steps 14 and 15; annealing half-way at step 64.
        Assert.That(s.LearningRate(10), Is.EqualTo(1.0 + (initial - 1.0) / 2 * (Math.Cos(Math.PI * 10 / 29) + 1)).Within(Tight));
        Assert.That(s.LearningRate(64), Is.EqualTo((1.0 + min) / 2).Within(Tight));
        var rates = Enumerable.Range(0, 100).Select(s.LearningRate).ToArray();
        Assert.That(rates.Take(30), Is.Ordered.Ascending);
        Assert.That(rates.Skip(29), Is.Ordered.Descending);
        Assert.That(rates.Max(), Is.EqualTo(1.0).Within(Tight));
    }

    [Test]
    public void OneCycleWithThePeakOnTheFirstStep()
    {
        // pctStart·total = 1 puts the peak at step 0: an empty warm-up (PyTorch computes 0/0 there).
        var s = new OneCycleSchedule(2.0, totalSteps: 10, pctStart: 0.1);
        Assert.That(s.LearningRate(0), Is.EqualTo(2.0));
        Assert.That(s.LearningRate(9), Is.EqualTo(2.0 / 25 / 1e4).Within(Tight));
        Assert.That(() => new OneCycleSchedule(1.0, 100, pctStart: 1.0), Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("pctStart"));
    }

    [Test]
    public void ParserBuildsEachSchedule()
    {
        Assert.That(LearningRateSchedules.Parse("constant", 0.1, 100), Is.TypeOf<ConstantSchedule>().With.Property("BaseLearningRate").EqualTo(0.1));

        var step = (StepDecaySchedule)LearningRateSchedules.Parse("step:30:0.5", 0.1, 100);
        Assert.That((step.Every, step.Gamma, step.BaseLearningRate), Is.EqualTo((30, 0.5, 0.1)));
        Assert.That(((StepDecaySchedule)LearningRateSchedules.Parse(" Step:7 ", 0.1, 100)).Gamma, Is.EqualTo(0.1), "GAMMA defaults to 0.1; names are case-insensitive");

        var cosine = (CosineSchedule)LearningRateSchedules.Parse("cosine", 0.1, 200);
        Assert.That((cosine.WarmupSteps, cosine.MinLearningRate, cosine.TotalSteps), Is.EqualTo((0, 0.0, 200)));
        cosine = (CosineSchedule)LearningRateSchedules.Parse("cosine:0.1:1e-3", 0.1, 200);
        Assert.That((cosine.WarmupSteps, cosine.MinLearningRate), Is.EqualTo((20, 1e-3)), "WARMUP is a fraction of the steps, MIN_LR absolute");

        var cycle = (OneCycleSchedule)LearningRateSchedules.Parse("one-cycle", 0.1, 200);
        Assert.That((cycle.MaxLearningRate, cycle.PctStart, cycle.DivFactor, cycle.FinalDivFactor), Is.EqualTo((0.1, 0.3, 25.0, 1e4)));
        cycle = (OneCycleSchedule)LearningRateSchedules.Parse("one-cycle:0.25:10:100", 0.1, 200);
        Assert.That((cycle.PctStart, cycle.DivFactor, cycle.FinalDivFactor), Is.EqualTo((0.25, 10.0, 100.0)));
    }

    [TestCase("linear", "unknown learning-rate schedule 'linear'; valid schedules: constant, step:N[:GAMMA], cosine[:WARMUP[:MIN_LR]], one-cycle[:PCT_START[:DIV[:FINAL_DIV]]]")]
    [TestCase("", "unknown learning-rate schedule ''")]
    [TestCase("step", "schedule 'step' needs N")]
    [TestCase("step:0", "N must be a whole number ≥ 1, got '0'")]
    [TestCase("step:ten", "N must be a whole number ≥ 1, got 'ten'")]
    [TestCase("step:10:x", "GAMMA must be a number, got 'x'")]
    [TestCase("step:10:-1", "schedule 'step:10:-1': gamma must be finite and > 0")]
    [TestCase("constant:3", "schedule 'constant:3' has 1 arguments, at most 0 allowed")]
    [TestCase("cosine:1.5", "WARMUP is a fraction of the steps in [0, 1), got 1.5")]
    [TestCase("cosine:0:1", "minLearningRate must not exceed the base rate")]
    [TestCase("one-cycle:2", "schedule 'one-cycle:2': pctStart must lie in (0, 1)")]
    public void ParserErrorsSayWhatIsWrong(string spec, string message)
    {
        Assert.That(() => LearningRateSchedules.Parse(spec, 0.1, 100), Throws.InstanceOf<ArgumentException>().With.Message.Contains(message));
    }

    [Test]
    public void ASpecIsParsedOnceWithItsDefaultsAndBuildsTheSameScheduleAsTheText()
    {
        var spec = ScheduleSpec.Parse(" One-Cycle:0.25 ");
        Assert.That(spec.Kind, Is.EqualTo(ScheduleKind.OneCycle));
        Assert.That(spec.Arguments, Is.EqualTo(new[] { 0.25, 25, 1e4 }));
        Assert.That(ScheduleSpec.Parse("step:7").Arguments, Is.EqualTo(new[] { 7, 0.1 }));
        Assert.That(ScheduleSpec.Parse("cosine:0.1:1e-3"), Is.EqualTo(ScheduleSpec.Parse("cosine:0.10:0.001")), "equal kinds and arguments");
        var built = spec.Build(0.1, 200);
        var parsed = LearningRateSchedules.Parse(" One-Cycle:0.25 ", 0.1, 200);
        for (int step = 0; step < 210; step += 7) Assert.That(built.LearningRate(step), Is.EqualTo(parsed.LearningRate(step)));
    }

    [Test]
    public void ASpecIsWrittenAsItsTextInJson()
    {
        string json = System.Text.Json.JsonSerializer.Serialize(new OptEq.Autodiff.Training.TrainingOptions());
        Assert.That(json, Does.Contain("\"Schedule\":\"one-cycle\""));
        var back = System.Text.Json.JsonSerializer.Deserialize<ScheduleSpec>("\"step:30:0.5\"")!;
        Assert.That(back.Kind, Is.EqualTo(ScheduleKind.Step));
        Assert.That(back.Arguments, Is.EqualTo(new[] { 30, 0.5 }));
        Assert.That(() => System.Text.Json.JsonSerializer.Deserialize<ScheduleSpec>("\"warp\""),
            Throws.TypeOf<System.Text.Json.JsonException>().With.Message.Contains("valid schedules"));
    }
}
