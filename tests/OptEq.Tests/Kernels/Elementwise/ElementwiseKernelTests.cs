using System.Numerics;
using NUnit.Framework;
using OptEq.Kernels;
using OptEq.Kernels.Reference;
using static OptEq.Tests.Kernels.KernelAssert;

namespace OptEq.Tests.Kernels;

/// <summary>a·b + c − d/2: an arbitrary four-input op for the generic Map kernel (public, for ILGPU).</summary>
public readonly struct FourInputOp<T> : IScalarMap<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Apply(T a, T b, T c, T d) => a * b + c - d / (T.One + T.One);
}

[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public sealed class ElementwiseKernelTests(string backend) : KernelTestsBase(backend)
{
    // Copy, Fill and AddBias must be exact: moving data does not round, and x + b of two float32 values is exact in
    // float64, so the float32 kernel's one rounding gives exactly the reference rounded to float32.

    [TestCase(1, 1)]
    [TestCase(37, 3)]
    [TestCase(5, 300)]
    public void CopyBetweenStridedViews(int rows, int cols)
    {
        CheckCopy<float>(rows, cols);
        CheckCopy<double>(rows, cols);
    }

    private void CheckCopy<T>(int rows, int cols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = Random(rows * cols, rows + cols);
        using var src = new Strided<T>(Device, x, 2, rows, cols);
        using var dst = new Strided<T>(Device, new double[rows * cols], 5, rows, cols);
        Device.Copy(src.View, dst.View);
        Exact(x, dst.Values, $"copy<{typeof(T).Name}> {rows}×{cols}");
        dst.AssertPaddingUntouched("copy");
    }

    [TestCase(1, 1)]
    [TestCase(29, 41)]
    public void FillStridedView(int rows, int cols)
    {
        CheckFill<float>(rows, cols);
        CheckFill<double>(rows, cols);
    }

    private void CheckFill<T>(int rows, int cols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var x = new Strided<T>(Device, Random(rows * cols, 3), 3, rows, cols);
        Device.Fill(x.View, T.CreateChecked(-2.5));
        Exact(Enumerable.Repeat(-2.5, rows * cols).ToArray(), x.Values, $"fill<{typeof(T).Name}>");
        x.AssertPaddingUntouched("fill");
    }

    [TestCase(1, 1, false)]
    [TestCase(13, 70, false)]
    [TestCase(13, 70, true)]
    public void AddBias(int rows, int cols, bool inPlace)
    {
        CheckAddBias<float>(rows, cols, inPlace);
        CheckAddBias<double>(rows, cols, inPlace);
    }

    private void CheckAddBias<T>(int rows, int cols, bool inPlace) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = Random(rows * cols, 5);
        var bias = Random(cols, 6);
        using var X = new Strided<T>(Device, x, 1, rows, cols);
        using var B = Device.FromArray(To<T>(bias), cols);
        using var Y = new Strided<T>(Device, new double[rows * cols], 4, rows, cols);
        var y = inPlace ? X : Y;
        Device.AddBias(X.View, B, y.View);
        Exact(ReferenceKernels.AddBias(rows, cols, x, bias), y.Values, $"add-bias<{typeof(T).Name}> in place: {inPlace}");
        y.AssertPaddingUntouched("add-bias");
    }

    // Axpby tolerance: α·x + β·y rounds three times in T: |r − r_ref| ≤ 2u·(|α·x| + |β·y|).

    [TestCase(0.5, -1.5, "new")]
    [TestCase(2.0, 0.25, "x")]
    [TestCase(-1.0, 3.0, "y")]
    public void Axpby(double alpha, double beta, string result)
    {
        CheckAxpby<float>(11, 23, alpha, beta, result, nanInY: false);
        CheckAxpby<double>(11, 23, alpha, beta, result, nanInY: false);
    }

    [Test]
    public void AxpbyWithZeroBetaDoesNotReadY([Values] Precision precision)
        => Run(precision,
            () => CheckAxpby<float>(7, 9, 1.5, 0, "new", nanInY: true),
            () => CheckAxpby<double>(7, 9, 1.5, 0, "x", nanInY: true));

    private void CheckAxpby<T>(int rows, int cols, double alpha, double beta, string result, bool nanInY)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = Random(rows * cols, 7);
        var y = nanInY ? Enumerable.Repeat(double.NaN, rows * cols).ToArray() : Random(rows * cols, 8);
        using var X = new Strided<T>(Device, x, 2, rows, cols);
        using var Y = new Strided<T>(Device, y, 0, rows, cols);
        using var R = new Strided<T>(Device, new double[rows * cols], 3, rows, cols);
        var r = result switch { "x" => X, "y" => Y, _ => R };
        Device.Axpby(T.CreateChecked(alpha), X.View, T.CreateChecked(beta), Y.View, r.View);
        var expected = ReferenceKernels.Axpby(alpha, x, beta, y);
        Close(expected, r.Values, 2 * Unit<T>(), i => Math.Abs(alpha * x[i]) + (beta == 0 ? 0 : Math.Abs(beta * y[i])),
            $"axpby<{typeof(T).Name}> α={alpha} β={beta} result={result}");
        r.AssertPaddingUntouched("axpby");
    }

    // The generic and per-row kernels: Map, RowAxpby and SelectRows round at most twice per element (bounds 2u·scale).

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
}
