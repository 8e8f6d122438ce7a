using System.Numerics;
using NUnit.Framework;
using OptEq.Kernels;
using OptEq.Kernels.Reference;
using static OptEq.Tests.Kernels.KernelAssert;

namespace OptEq.Tests.Kernels;

[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public sealed class AndersonKernelTests(string backend) : KernelTestsBase(backend)
{
    // Tolerance: each output is a d-term sum of products (or one subtraction), so the GEMM bound applies:
    // 16·u·(√d + 2) times the magnitude sum, which the reference computes by running on |inputs| (with r = |fz| + |z|).

    /// <summary>(slot, used): the first iteration, one in the middle of filling the ring, and a wrapped ring.</summary>
    [TestCase(0, 1)]
    [TestCase(2, 3)]
    [TestCase(1, 4)]
    public void AndersonUpdateMatchesReference(int slot, int used)
    {
        foreach (int d in new[] { 1, 37, 300 })
        {
            CheckAndersonUpdate<float>(batch: 5, m: 4, d, slot, used);
            CheckAndersonUpdate<double>(batch: 3, m: 4, d, slot, used);
        }
    }

    /// <summary>Nine iterations through a ring of 3: the incrementally kept Gram equals RRᵀ of what the ring holds.</summary>
    [Test]
    public void AndersonUpdateKeepsTheFullGram([Values] Precision precision)
        => Run(precision, () => CheckIncrementalGram<float>(), () => CheckIncrementalGram<double>());

    [Test]
    public void AndersonMixMatchesReference([Values] Precision precision, [Values(1, 37, 300)] int d)
        => Run(precision, () => CheckAndersonMix<float>(d), () => CheckAndersonMix<double>(d));

    [Test]
    public void AndersonKernelsRejectBadArguments()
    {
        using var z = Device.Allocate<float>(3, 8);
        using var fz = Device.Allocate<float>(3, 8);
        using var ring = Device.Allocate<float>(3, 4, 8);
        using var ring2 = Device.Allocate<float>(3, 4, 8);
        using var wrongRing = Device.Allocate<float>(3, 4, 7);
        using var gram = Device.Allocate<float>(3, 4, 4);
        using var norms = Device.Allocate<float>(3);
        using var norms2 = Device.Allocate<float>(3);
        using var alpha = Device.Allocate<float>(3, 4);
        using var solutions = Device.Allocate<float>(3, 5);
        using var status = Device.Allocate<int>(3);
        Assert.That(() => Device.AndersonUpdate(z, fz, wrongRing, ring2, gram, 0, 1, norms, norms2),
            Throws.TypeOf<ShapeException>().With.Message.Contains("iterates must be a contiguous [3, m, 8]"));
        Assert.That(() => Device.AndersonUpdate(z, fz, ring, ring2, gram, 2, 2, norms, norms2),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("slot"));
        Assert.That(() => Device.AndersonUpdate(z, fz, ring, ring2, gram, 0, 5, norms, norms2),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("used slots must be in [1, 4]"));
        Assert.That(() => Device.AndersonMix(solutions, status, norms, ring, ring2, fz, 1f, 2, ring[0]),
            Throws.TypeOf<ShapeException>());
        Assert.That(() => Device.AndersonMix(alpha, status, norms, ring, ring2, fz, 1f, 2, z),
            Throws.TypeOf<ShapeException>().With.Message.Contains("solutions must be [3, 5]"));
    }

    private void CheckAndersonUpdate<T>(int batch, int m, int d, int slot, int used) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int seed = (batch * 31 + m) * 1000 + d * 10 + slot;
        var z = Random(batch * d, seed); var fz = Random(batch * d, seed + 1);
        var iterates = Random(batch * m * d, seed + 2); var residuals = Random(batch * m * d, seed + 3); var gram = Random(batch * m * m, seed + 4);
        using var Z = Device.FromArray(To<T>(z), batch, d);
        using var Fz = Device.FromArray(To<T>(fz), batch, d);
        using var X = Device.FromArray(To<T>(iterates), batch, m, d);
        using var R = Device.FromArray(To<T>(residuals), batch, m, d);
        using var G = Device.FromArray(To<T>(gram), batch, m, m);
        using var abs = Device.Allocate<T>(batch);
        using var norm = Device.Allocate<T>(batch);

        Device.AndersonUpdate(Z, Fz, X, R, G, slot, used, abs, norm);

        var (rAbs, rNorm) = ReferenceKernels.AndersonUpdate(batch, m, d, slot, used, z, fz, iterates, residuals, gram);
        var magnitudes = (X: iterates.Select(Math.Abs).ToArray(), R: residuals.Select(Math.Abs).ToArray(), G: gram.Select(Math.Abs).ToArray());
        // Untouched entries of the magnitude arrays keep |old value|, updated ones get the magnitude sums (the new iterate gets −|z|).
        var (mAbs, mNorm) = ReferenceKernels.AndersonUpdate(batch, m, d, slot, used, z.Select(v => -Math.Abs(v)).ToArray(),
            fz.Select(Math.Abs).ToArray(), magnitudes.X, magnitudes.R, magnitudes.G);
        double tol = 16 * Unit<T>() * (Math.Sqrt(d) + 2);
        string what = $"anderson-update<{typeof(T).Name}> batch {batch}, m {m}, d {d}, slot {slot}, used {used}";
        Close(iterates, X.ToArray(), tol, i => Math.Abs(magnitudes.X[i]), what + " iterates");
        Close(residuals, R.ToArray(), tol, i => magnitudes.R[i], what + " residuals");
        Close(gram, G.ToArray(), tol, i => magnitudes.G[i], what + " gram");
        Close(rAbs, abs.ToArray(), tol, i => mAbs[i], what + " ||fz − z||²");
        Close(rNorm, norm.ToArray(), tol, i => mNorm[i], what + " ||fz||²");
    }

    private void CheckIncrementalGram<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        int batch = 4, m = 3, d = 29;
        using var X = Device.Allocate<T>(batch, m, d);
        using var R = Device.Allocate<T>(batch, m, d);
        using var G = Device.Allocate<T>(batch, m, m);
        using var abs = Device.Allocate<T>(batch);
        using var norm = Device.Allocate<T>(batch);
        Device.Fill(G, T.NaN); // entries a used block reads must all have been written
        for (int k = 0; k < 9; k++)
        {
            using var z = Device.FromArray(To<T>(Random(batch * d, 100 + k)), batch, d);
            using var fz = Device.FromArray(To<T>(Random(batch * d, 200 + k)), batch, d);
            int used = Math.Min(k + 1, m);
            Device.AndersonUpdate(z, fz, X, R, G, k % m, used, abs, norm);

            var r = R.ToArray().Select(double.CreateChecked).ToArray();
            var g = G.ToArray();
            for (int b = 0; b < batch; b++)
                for (int i = 0; i < used; i++)
                    for (int j = 0; j < used; j++)
                    {
                        double expected = 0, magnitude = 0;
                        for (int c = 0; c < d; c++)
                        {
                            expected += r[(b * m + i) * d + c] * r[(b * m + j) * d + c];
                            magnitude += Math.Abs(r[(b * m + i) * d + c] * r[(b * m + j) * d + c]);
                        }
                        double actual = double.CreateChecked(g[(b * m + i) * m + j]);
                        Assert.That(actual, Is.EqualTo(expected).Within(16 * Unit<T>() * (Math.Sqrt(d) + 2) * magnitude),
                            $"iteration {k}, sample {b}: gram[{i}, {j}]");
                    }
        }
    }

    private void CheckAndersonMix<T>(int d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int batch = 6, m = 4, used = 3;
        var alpha = Random(batch * m, d + 1);
        var iterates = Random(batch * m * d, d + 2);
        var residuals = Random(batch * m * d, d + 3);
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < d; j++) iterates[(b * m + used) * d + j] = residuals[(b * m + used) * d + j] = double.NaN; // the unused slot
        var fz = Random(batch * d, d + 4);
        var z = Random(batch * d, d + 5);
        int[] status = [0, 1, 0, 0, 1, 0];
        double[] active = [1, 1, 0, 1, 0, 1];
        double beta = 0.75;
        // α is columns 1…m of the solved bordered systems [ν; α]; ν (column 0) must not be read as a weight.
        var system = new double[batch * (m + 1)];
        for (int b = 0; b < batch; b++) { system[b * (m + 1)] = 1e6; for (int i = 0; i < m; i++) system[b * (m + 1) + 1 + i] = alpha[b * m + i]; }
        using var Alpha = Device.FromArray(To<T>(system), batch, m + 1);
        using var Status = Device.FromArray(status, batch);
        using var Active = Device.FromArray(To<T>(active), batch);
        using var X = Device.FromArray(To<T>(iterates), batch, m, d);
        using var R = Device.FromArray(To<T>(residuals), batch, m, d);
        using var Fz = Device.FromArray(To<T>(fz), batch, d);
        using var Z = new Strided<T>(Device, z, 2, batch, d);

        Device.AndersonMix(Alpha, Status, Active, X, R, Fz, T.CreateChecked(beta), used, Z.View);

        var expected = (double[])z.Clone();
        ReferenceKernels.AndersonMix(batch, m, d, used, alpha, status, active, iterates, residuals, fz, beta, expected);
        var scale = (double[])z.Select(Math.Abs).ToArray();
        ReferenceKernels.AndersonMix(batch, m, d, used, alpha.Select(Math.Abs).ToArray(), status, active, iterates.Select(Math.Abs).ToArray(),
            residuals.Select(Math.Abs).ToArray(), fz.Select(Math.Abs).ToArray(), beta, scale);
        string what = $"anderson-mix<{typeof(T).Name}> d {d}";
        Close(expected, Z.Values, 16 * Unit<T>() * (Math.Sqrt(2 * used) + 2), i => scale[i], what);
        Z.AssertPaddingUntouched(what);
    }

    // The bordered system must be exact: each entry is a copy, a constant, or one Gram entry plus ridge·mean.

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
                {
                    // Written out here, not taken from the kernels' scalar code: border of ones over the used slots,
                    // H + ridge·mean(diag H)·I on the used block, identity rows (zero weight) for unused slots.
                    double entry;
                    if (r == 0 || c == 0) entry = r == c ? 0 : Math.Max(r, c) <= used ? 1 : 0;
                    else if (r > used || c > used) entry = r == c ? 1 : 0;
                    else entry = r == c ? gram[s * m * m + (r - 1) * m + c - 1] + 1e-3 * mean : gram[s * m * m + (r - 1) * m + c - 1];
                    expected[s * n * n + r * n + c] = entry;
                }
                expectedRhs[s * n + r] = r == 0 ? 1 : 0;
            }
        }
        Exact(expected, system.ToArray(), "anderson-system");
        Exact(expectedRhs, rhs.ToArray(), "anderson-system rhs");
    }
}
