using System.Numerics;
using NUnit.Framework;
using OptEq.Kernels;
using OptEq.Solvers;
using static OptEq.Tests.Kernels.KernelAssert;

namespace OptEq.Tests.Kernels;

/// <summary>An arbitrary rule for the generic per-sample kernel: touches every row of the column (public, for ILGPU).</summary>
public readonly struct TestSampleRule<T> : ISampleRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Scale { get; init; }

    public (T, T) Apply(T x, T y, ref SampleColumn<T> s)
    {
        s.S0 += x;
        s.S1 = s.S1 * y;
        s.S2 = T.Max(s.S2, x);
        s.S3 = s.S3 - y;
        s.S4 = x * y;
        s.S5 = Scale * s.S5;
        if (x > y) s.S6 = s.S7;
        s.S7 = s.S0 + s.S1;
        return (x + y, Scale * x);
    }
}

[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public sealed class SampleKernelTests(string backend) : KernelTestsBase(backend)
{
    // The per-sample kernel moves data and applies the rule's scalar code to it, so it must match a plain loop exactly.

    [TestCase(1)]
    [TestCase(37)]
    [TestCase(300)]
    public void UpdateSamplesAppliesTheRuleToEveryColumn(int batch)
    {
        const int rows = SampleColumn.Rows, traceRows = 3;
        double[] x = Random(batch, 21), y = Random(batch, 22), state = Random(rows * batch, 23);
        using var tx = Device.FromArray(x, batch);
        using var ty = Device.FromArray(y, batch);
        using var ts = Device.FromArray(state, rows, batch);
        using var traceX = Device.FromArray(new double[traceRows * batch], traceRows, batch);
        using var traceY = Device.FromArray(new double[traceRows * batch], traceRows, batch);
        Device.UpdateSamples(new TestSampleRule<double> { Scale = 0.5 }, tx, ty, ts, 1, traceX, traceY);

        // The rule, written out over [rows, batch] arrays (independent of the kernel's column loads and stores).
        var expected = (double[])state.Clone();
        var expectedX = new double[traceRows * batch];
        var expectedY = new double[traceRows * batch];
        for (int i = 0; i < batch; i++)
        {
            double S(int r) => expected[r * batch + i];
            void Set(int r, double v) => expected[r * batch + i] = v;
            Set(0, S(0) + x[i]);
            Set(1, S(1) * y[i]);
            Set(2, Math.Max(S(2), x[i]));
            Set(3, S(3) - y[i]);
            Set(4, x[i] * y[i]);
            Set(5, 0.5 * S(5));
            if (x[i] > y[i]) Set(6, S(7));
            Set(7, S(0) + S(1));
            expectedX[batch + i] = x[i] + y[i];
            expectedY[batch + i] = 0.5 * x[i];
        }
        Exact(expected, ts.ToArray(), "update-samples state");
        Exact(expectedX, traceX.ToArray(), "update-samples traceX (row 1 only)");
        Exact(expectedY, traceY.ToArray(), "update-samples traceY (row 1 only)");

        // Without traces: the state alone changes, and a trace row outside the traces is rejected.
        Device.UpdateSamples(new TestSampleRule<double> { Scale = 0.5 }, tx, ty, ts);
        Assert.That(() => Device.UpdateSamples(new TestSampleRule<double>(), tx, ty, ts, traceRows, traceX, traceY),
            Throws.InstanceOf<ShapeException>().With.Message.Contains("trace row"));
        using var wrongState = Device.Allocate<double>(rows - 1, batch);
        Assert.That(() => Device.UpdateSamples(new TestSampleRule<double>(), tx, ty, wrongState),
            Throws.InstanceOf<ShapeException>().With.Message.Contains("state"));
    }

    [Test]
    public void ConvergenceRuleOnTheDeviceFollowsAPlainReference()
    {
        const int batch = 6, iterations = 4;
        const double absTolerance = 1e-4, divergenceFactor = 1e6;
        // Per-iteration squared residuals: sample 2 becomes NaN, sample 4 explodes (diverges), sample 0 converges.
        double[][] abs2 =
        [
            [1, 4, 1, 9, 1, 0],
            [1e-10, 1, 1, 4, 1e12, 0],
            [1e-12, 0.25, double.NaN, 1, 1e30, 0],
            [1, 0.0625, 1, 0.25, 1, 0],
        ];
        var norm2 = Enumerable.Repeat(4.0, batch).ToArray();
        using var state = Device.Allocate<double>(SampleState.Rows, batch);
        using var traceAbs = Device.Allocate<double>(iterations, batch);
        using var traceRel = Device.Allocate<double>(iterations, batch);
        using var absT = Device.Allocate<double>(batch);
        using var normT = Device.FromArray(norm2, batch);
        Device.UpdateSamples(new StartRule<double> { Infinity = double.PositiveInfinity }, absT, normT, state);

        // The rule as the solvers document it, written here as plain per-sample code (docs/math.md §4).
        var status = new double[batch]; var bestAbs = new double[batch]; var bestRel = new double[batch]; var iters = new double[batch];
        var improved = new double[batch]; var active = new double[batch]; var lastAbs = new double[batch]; var lastRel = new double[batch];
        Array.Fill(bestAbs, double.PositiveInfinity); Array.Fill(bestRel, double.PositiveInfinity);
        Array.Fill(lastAbs, double.PositiveInfinity); Array.Fill(lastRel, double.PositiveInfinity);
        Array.Fill(active, 1.0);
        var expectedTraceAbs = new double[iterations * batch];
        for (int k = 0; k < iterations; k++)
        {
            absT.CopyFrom(abs2[k]);
            var rule = new ConvergenceRule<double> { Evaluations = k + 1, AbsTolerance = absTolerance, RelTolerance = -1, DivergenceFactor = divergenceFactor };
            Device.UpdateSamples(rule, absT, normT, state, k, traceAbs, traceRel);
            for (int i = 0; i < batch; i++)
            {
                double abs = Math.Sqrt(abs2[k][i]), rel = abs / (Math.Sqrt(norm2[i]) + double.Epsilon);
                expectedTraceAbs[k * batch + i] = abs; // every sample's latest residual, stopped or not
                improved[i] = 0;
                if (status[i] != 0) continue;
                lastAbs[i] = abs; lastRel[i] = rel; iters[i] = k + 1;
                if (double.IsNaN(abs) || double.IsInfinity(abs)) { status[i] = (double)SampleStatus.NonFinite; active[i] = 0; continue; }
                if (abs < bestAbs[i]) { bestAbs[i] = abs; bestRel[i] = rel; improved[i] = 1; }
                if (abs <= absTolerance) { status[i] = (double)SampleStatus.Converged; active[i] = 0; }
                else if (abs > divergenceFactor * bestAbs[i]) { status[i] = (double)SampleStatus.Diverged; active[i] = 0; }
            }
        }
        var expected = new double[SampleState.Rows * batch];
        (int Row, double[] Values)[] rows =
        [
            (SampleState.Status, status), (SampleState.BestAbs, bestAbs), (SampleState.BestRel, bestRel), (SampleState.Iterations, iters),
            (SampleState.Improved, improved), (SampleState.Active, active), (SampleState.LastAbs, lastAbs), (SampleState.LastRel, lastRel),
        ];
        foreach (var (row, values) in rows) values.CopyTo(expected, row * batch);
        Exact(expected, state.ToArray(), "convergence state");
        Exact(expectedTraceAbs, traceAbs.ToArray(), "convergence trace");
        var statuses = state[SampleState.Status].ToArray();
        Assert.That(statuses[0], Is.EqualTo((double)SampleStatus.Converged));
        Assert.That(statuses[2], Is.EqualTo((double)SampleStatus.NonFinite));
        Assert.That(statuses[4], Is.EqualTo((double)SampleStatus.Diverged));
        Assert.That(statuses[5], Is.EqualTo((double)SampleStatus.Converged)); // residual exactly 0
    }
}
