using System.Numerics;
using NUnit.Framework;
using OptEq.Kernels;
using OptEq.Kernels.Reference;
using static OptEq.Tests.Kernels.KernelAssert;

namespace OptEq.Tests.Kernels;

[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public sealed class BatchedSolveKernelTests(string backend) : KernelTestsBase(backend)
{
    // Tolerance: |x − x_ref| ≤ 16·n·u·max|x_ref| per component. The systems are diagonally dominant (diagonal n + 1,
    // off-diagonal entries in [−1, 1]), so the condition number is small (κ∞ ≤ 2n + 2 by the dominance bound) and
    // partial pivoting has no growth; the error of a backward-stable solve is then a modest multiple of n·u.

    [TestCase(1)]
    [TestCase(5)]
    [TestCase(64)]
    public void BatchedSolveMatchesReference(int n)
    {
        CheckBatchedSolve<float>(n, xIsB: false);
        CheckBatchedSolve<double>(n, xIsB: true);
    }

    [Test]
    public void BatchedSolveWithXInPlaceOfB([Values] Precision precision)
        => Run(precision, () => CheckBatchedSolve<float>(7, xIsB: true), () => CheckBatchedSolve<double>(7, xIsB: false));

    /// <summary>
    /// Six samples: 0 dominant; 1 the same rows reversed (partial pivoting must swap them back); 2 all zero (no pivot);
    /// 3 two equal rows (singular; for n = 1 a zero); 4 a NaN in A; 5 an infinite b (x is not finite).
    /// Expected status: 0 0 1 1 1 1.
    /// </summary>
    private void CheckBatchedSolve<T>(int n, bool xIsB) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int batch = 6;
        var a = new double[batch * n * n];
        var b = Random(batch * n, 41 + n, -2, 2);
        var dominant = Random(n * n, 40 + n);
        for (int i = 0; i < n; i++) dominant[i * n + i] = n + 1;
        dominant.CopyTo(a, 0);
        for (int i = 0; i < n; i++) Array.Copy(dominant, (n - 1 - i) * n, a, n * n + i * n, n);
        // sample 2 stays zero
        dominant.CopyTo(a, 3 * n * n);
        if (n > 1) Array.Copy(a, 3 * n * n, a, 3 * n * n + n, n); else a[3] = 0;
        dominant.CopyTo(a, 4 * n * n);
        a[4 * n * n + n * n / 2] = double.NaN;
        dominant.CopyTo(a, 5 * n * n);
        b[5 * n + n - 1] = double.PositiveInfinity;

        using var A = Device.FromArray(To<T>(a), batch, n, n);
        using var B = Device.FromArray(To<T>(b), batch, n);
        using var X = Device.Allocate<T>(batch, n);
        using var status = Device.FromArray(Enumerable.Repeat(-7, batch).ToArray(), batch);
        Device.BatchedSolve(A, B, xIsB ? B : X, status);

        string what = $"batched-solve<{typeof(T).Name}> n={n} x{(xIsB ? " = b" : "")}";
        Assert.That(status.ToArray(), Is.EqualTo(new[] { 0, 0, 1, 1, 1, 1 }), what + ": status");
        var x = (xIsB ? B : X).ToArray();
        for (int s = 0; s < 2; s++)
        {
            var expected = ReferenceKernels.Solve(n, a[(s * n * n)..((s + 1) * n * n)], b[(s * n)..((s + 1) * n)])!;
            double scale = expected.Max(Math.Abs);
            Close(expected, x[(s * n)..((s + 1) * n)], 16 * n * Unit<T>(), _ => scale, $"{what} sample {s}");
        }
    }
}
