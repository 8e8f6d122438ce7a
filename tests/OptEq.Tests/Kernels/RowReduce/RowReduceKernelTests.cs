using System.Numerics;
using NUnit.Framework;
using OptEq.Kernels;
using OptEq.Kernels.Reference;
using static OptEq.Tests.Kernels.KernelAssert;

namespace OptEq.Tests.Kernels;

[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public sealed class RowReduceKernelTests(string backend) : KernelTestsBase(backend)
{
    // Sums: |r − r_ref| ≤ 16·u·(√cols + 2)·Σⱼ|term j| (any summation order, as for GEMM). MaxAbs only compares, so it is
    // exact, and a NaN anywhere in the row makes the row's result NaN.

    [Test]
    public void RowReduceMatchesReference(
        [Values] RowReduction reduction, [Values] Precision precision, [Values("1x1", "7x300", "5x33", "2x1")] string shape)
    {
        var s = shape.Split('x').Select(int.Parse).ToArray();
        Run(precision, () => CheckRowReduce<float>(reduction, s[0], s[1]), () => CheckRowReduce<double>(reduction, s[0], s[1]));
    }

    [Test]
    public void RowReduceMaxAbsPropagatesNaN([Values] Precision precision)
        => Run(precision, () => CheckMaxAbsNaN<float>(), () => CheckMaxAbsNaN<double>());

    private void CheckRowReduce<T>(RowReduction reduction, int rows, int cols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = Random(rows * cols, 21, -3, 3);
        var y = Random(rows * cols, 22, -3, 3);
        using var X = new Strided<T>(Device, x, 2, rows, cols);
        using var Y = new Strided<T>(Device, y, 1, rows, cols);
        using var result = Device.FromArray(To<T>(Enumerable.Repeat(double.NaN, rows).ToArray()), rows);
        bool usesY = reduction is RowReduction.Dot or RowReduction.SquaredDistance;
        Device.RowReduce(reduction, X.View, usesY ? Y.View : null, result);

        var expected = ReferenceKernels.RowReduce(reduction, rows, cols, x, y);
        string what = $"row-reduce<{typeof(T).Name}> {reduction} {rows}×{cols}";
        if (reduction == RowReduction.MaxAbs)
        {
            Exact(expected, result.ToArray(), what);
            return;
        }
        var magnitude = reduction switch
        {
            RowReduction.Dot => ReferenceKernels.RowReduce(RowReduction.Dot, rows, cols, x.Select(Math.Abs).ToArray(), y.Select(Math.Abs).ToArray()),
            RowReduction.Sum => ReferenceKernels.RowReduce(RowReduction.Sum, rows, cols, x.Select(Math.Abs).ToArray(), null),
            _ => expected, // the terms are squares: already non-negative
        };
        Close(expected, result.ToArray(), 16 * Unit<T>() * (Math.Sqrt(cols) + 2), i => magnitude[i], what);
    }

    private void CheckMaxAbsNaN<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Row 0: NaN first; row 1: NaN last, after the largest value; row 2: no NaN, largest magnitude negative;
        // row 3: NaN in a row longer than the group, so it travels through the tree.
        int cols = 300;
        var x = Random(4 * cols, 23);
        x[0] = double.NaN;
        x[cols + 5] = 9;
        x[2 * cols - 1] = double.NaN;
        x[2 * cols + 17] = -5;
        x[3 * cols + 200] = double.NaN;
        using var X = Device.FromArray(To<T>(x), 4, cols);
        using var result = Device.Allocate<T>(4);
        Device.RowReduce(RowReduction.MaxAbs, X, null, result);
        Exact([double.NaN, double.NaN, 5, double.NaN], result.ToArray(), $"max-abs<{typeof(T).Name}> with NaN");
    }
}
