using System.Numerics;
using NUnit.Framework;
using OptEq.Kernels;
using static OptEq.Tests.Kernels.KernelAssert;

namespace OptEq.Tests.Kernels;

/// <summary>a·b + c − d/2: an arbitrary four-input op for the generic Map kernel (public, for ILGPU).</summary>
public readonly struct FourInputOp<T> : IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Apply(T a, T b, T c, T d) => a * b + c - d / (T.One + T.One);
}

public abstract partial class KernelTestsBase
{
    // The solver kernels. Map, RowAxpby and SelectRows round at most twice per element (bounds 2u·scale); the
    // bookkeeping kernels must reproduce SolverBookkeeping's scalar code exactly (they call it).

    [TestCase(1, 1)]
    [TestCase(13, 37)]
    public void MapAppliesTheOpElementwise(int rows, int cols)
    {
        CheckMap<float>(rows, cols);
        CheckMap<double>(rows, cols);
    }

    private void CheckMap<T>(int rows, int cols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = rows * cols;
        double[] a = Random(n, 1), b = Random(n, 2), c = Random(n, 3), d = Random(n, 4);
        using var ta = new Strided<T>(Device, a, 3, rows, cols);
        using var tb = Device.FromArray(To<T>(b), rows, cols);
        using var tc = Device.FromArray(To<T>(c), rows, cols);
        using var td = Device.FromArray(To<T>(d), rows, cols);
        using var result = new Strided<T>(Device, new double[n], 2, rows, cols);
        Device.Map(new FourInputOp<T>(), result.View, ta.View, tb, tc, td);
        var expected = Enumerable.Range(0, n).Select(i => a[i] * b[i] + c[i] - d[i] / 2).ToArray();
        Close(expected, result.Values, 3 * Unit<T>(), i => Math.Abs(a[i] * b[i]) + Math.Abs(c[i]) + Math.Abs(d[i]), $"map<{typeof(T).Name}>");
        result.AssertPaddingUntouched("map");
    }

    [TestCase(1, 1)]
    [TestCase(17, 29)]
    public void RowAxpbyUsesPerRowCoefficientsAndSkipsZeroBetaRows(int rows, int cols)
    {
        CheckRowAxpby<float>(rows, cols);
        CheckRowAxpby<double>(rows, cols);
    }

    private void CheckRowAxpby<T>(int rows, int cols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = rows * cols;
        double[] x = Random(n, 5), y = Random(n, 6), alpha = Random(rows, 7), beta = Random(rows, 8);
        beta[0] = 0;
        for (int k = 0; k < cols; k++) y[k] = double.NaN; // row 0 of y must not be read
        using var tx = new Strided<T>(Device, x, 1, rows, cols);
        using var ty = Device.FromArray(To<T>(y), rows, cols);
        using var ta = Device.FromArray(To<T>(alpha), rows);
        using var tb = Device.FromArray(To<T>(beta), rows);
        using var result = Device.Allocate<T>(rows, cols);
        Device.RowAxpby(ta, tx.View, tb, ty, result);
        var expected = Enumerable.Range(0, n).Select(i => alpha[i / cols] * x[i] + (beta[i / cols] == 0 ? 0 : beta[i / cols] * y[i])).ToArray();
        Close(expected, result.ToArray(), 3 * Unit<T>(), i => Math.Abs(alpha[i / cols] * x[i]) + (i < cols ? 0 : Math.Abs(beta[i / cols] * y[i])), $"row-axpby<{typeof(T).Name}>");
    }

    [Test]
    public void SelectRowsTakesRowsByConditionOfEitherType()
    {
        const int rows = 7, cols = 11;
        double[] a = Random(rows * cols, 9), b = Random(rows * cols, 10);
        int[] flags = [1, 0, 0, 3, 0, 1, -2];
        using var ta = Device.FromArray(To<double>(a), rows, cols);
        using var tb = Device.FromArray(To<double>(b), rows, cols);
        using var intFlags = Device.FromArray<int>(flags, rows);
        using var realFlags = Device.FromArray(flags.Select(f => (double)f).ToArray(), rows);
        var expected = Enumerable.Range(0, rows * cols).Select(i => flags[i / cols] != 0 ? a[i] : b[i]).ToArray();
        using (var result = Device.Allocate<double>(rows, cols))
        {
            Device.SelectRows(intFlags, ta, tb, result);
            Exact(expected, result.ToArray(), "select-rows<int>");
        }
        // In place (result = b), with a real-valued condition.
        Device.SelectRows(realFlags, ta, tb, tb);
        Exact(expected, tb.ToArray(), "select-rows<double> in place");
    }

    [Test]
    public void TrackResidualsFollowsTheScalarBookkeeping()
    {
        const int batch = 6, iterations = 4;
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
        Device.ResetSampleState(state);
        var expected = new double[SampleState.Rows * batch];
        for (int i = 0; i < batch; i++)
        {
            expected[SampleState.BestAbs * batch + i] = expected[SampleState.BestRel * batch + i] = double.PositiveInfinity;
            expected[SampleState.LastAbs * batch + i] = expected[SampleState.LastRel * batch + i] = double.PositiveInfinity;
            expected[SampleState.Active * batch + i] = 1;
        }
        var expectedTraceAbs = new double[iterations * batch];
        for (int k = 0; k < iterations; k++)
        {
            absT.CopyFrom(abs2[k]);
            Device.TrackResiduals(k, absT, normT, 1e-4, -1.0, 1e6, state, traceAbs, traceRel);
            for (int i = 0; i < batch; i++)
            {
                ref double S(int row) => ref expected[row * batch + i];
                var (a, _) = SolverBookkeeping.Track(k + 1.0, abs2[k][i], norm2[i], 1e-4, -1.0, 1e6,
                    ref S(SampleState.Status), ref S(SampleState.BestAbs), ref S(SampleState.BestRel), ref S(SampleState.Iterations),
                    ref S(SampleState.Improved), ref S(SampleState.Active), ref S(SampleState.LastAbs), ref S(SampleState.LastRel));
                expectedTraceAbs[k * batch + i] = a;
            }
        }
        Exact(expected, state.ToArray(), "track-residuals state");
        Exact(expectedTraceAbs, traceAbs.ToArray(), "track-residuals trace");
        var status = state[SampleState.Status].ToArray();
        Assert.That(status[0], Is.EqualTo((double)SampleStatus.Converged));
        Assert.That(status[2], Is.EqualTo((double)SampleStatus.NonFinite));
        Assert.That(status[4], Is.EqualTo((double)SampleStatus.Diverged));
        Assert.That(status[5], Is.EqualTo((double)SampleStatus.Converged)); // residual exactly 0
    }

    [TestCase(5, 3)]
    [TestCase(5, 5)]
    [TestCase(1, 1)]
    public void AndersonSystemMatchesTheBorderedForm(int m, int used)
    {
        const int batch = 3;
        var gram = Random(batch * m * m, 11, 0, 2);
        using var g = Device.FromArray(To<double>(gram), batch, m, m);
        using var system = Device.Allocate<double>(batch, m + 1, m + 1);
        using var rhs = Device.Allocate<double>(batch, m + 1);
        Device.AndersonSystem(g, used, 1e-3, system, rhs);
        int n = m + 1;
        var expected = new double[batch * n * n];
        var expectedRhs = new double[batch * n];
        for (int s = 0; s < batch; s++)
        {
            double mean = Enumerable.Range(0, used).Sum(i => gram[s * m * m + i * m + i]) / used;
            for (int r = 0; r < n; r++)
            {
                for (int c = 0; c < n; c++)
                    expected[s * n * n + r * n + c] = SolverBookkeeping.AndersonEntry(r, c, m, used, 1e-3, mean, r > 0 && c > 0 ? gram[s * m * m + (r - 1) * m + c - 1] : 0.0);
                expectedRhs[s * n + r] = r == 0 ? 1 : 0;
            }
        }
        Exact(expected, system.ToArray(), "anderson-system");
        Exact(expectedRhs, rhs.ToArray(), "anderson-system rhs");
    }
}
