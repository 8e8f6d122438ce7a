using NUnit.Framework;
using OptEq.Cli.Bench;
using OptEq.Kernels.Native;

namespace OptEq.Tests.Training;

/// <summary>The kernel benches' timing rule: every repetition when calls are quick (one time each), at least three and then a time budget when slow.</summary>
public class CallTimingTests
{
    [Test]
    public void QuickCallsAreAllTimedAndSlowOnesStopAtTheBudget()
    {
        using var device = new NativeCpuDevice();
        int calls = 0;
        double ms = CallTiming.MedianMilliseconds(device, () => calls++, warmup: 2, repetitions: 25);
        Assert.That(calls, Is.EqualTo(27));
        Assert.That(ms, Is.GreaterThanOrEqualTo(0));
        calls = 0;
        var times = CallTiming.Milliseconds(device, () => calls++, warmup: 2, repetitions: 7);
        Assert.That(calls, Is.EqualTo(9));
        Assert.That(times, Has.Length.EqualTo(7).And.All.GreaterThanOrEqualTo(0), "one time per timed call");

        calls = 0;
        ms = CallTiming.MedianMilliseconds(device, () => { calls++; Thread.Sleep(30); }, warmup: 1, repetitions: 100, maxSeconds: 0.1);
        // 1 warm-up, then timed calls until they have taken 0.1 s: at least 3 (≥ 90 ms), at most 5 (each ≥ 30 ms).
        Assert.That(calls - 1, Is.InRange(3, 5));
        Assert.That(ms, Is.GreaterThanOrEqualTo(30));

        calls = 0;
        CallTiming.MedianMilliseconds(device, () => { calls++; Thread.Sleep(30); }, warmup: 0, repetitions: 100, maxSeconds: 0);
        Assert.That(calls, Is.EqualTo(3), "three timed calls at least, whatever the budget");
    }

    [Test]
    public void TheMedianIsTheMiddleValueOrTheMeanOfTheMiddleTwo()
    {
        Assert.That(CallTiming.Median([5.0, 1.0, 3.0]), Is.EqualTo(3.0));
        Assert.That(CallTiming.Median([4.0, 1.0, 3.0, 10.0]), Is.EqualTo(3.5));
        Assert.That(CallTiming.Median([2.5]), Is.EqualTo(2.5));
        Assert.Throws<ArgumentException>(() => CallTiming.Median(Array.Empty<double>()));
    }
}
