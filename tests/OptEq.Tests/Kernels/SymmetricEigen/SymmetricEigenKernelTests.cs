using System.Numerics;
using NUnit.Framework;
using OptEq.Kernels;
using OptEq.Kernels.Reference;
using static OptEq.Tests.Kernels.KernelAssert;

namespace OptEq.Tests.Kernels;

[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public sealed class SymmetricEigenKernelTests(string backend) : KernelTestsBase(backend)
{
    // Tolerances, in units of T's roundoff u and of ‖A‖_F: Jacobi is backward stable, so each eigenvalue is within
    // c·n·u·‖A‖ of the exact one (Weyl) and each residual ‖Av − λv‖ is of the same size; c = 64 covers the sweeps'
    // accumulated rotations. An eigenvector with gap δ to the rest of the spectrum is within c·n·u·‖A‖/δ of the exact
    // one (Davis–Kahan), up to sign. The test spectra are spaced ≥ 0.25 apart, with one repeated pair in the last sample.

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(7)]
    [TestCase(17)]
    public void EigenpairsMatchReference(int n)
    {
        Check<float>(n);
        Check<double>(n);
    }

    [Test]
    public void ReferenceDiagonalisesKnownSpectrum()
    {
        const int n = 9;
        var lambda = Enumerable.Range(0, n).Select(i => -1.5 + 0.4 * i).ToArray();
        var a = WithSpectrum(lambda, 5);
        var (values, vectors) = ReferenceKernels.SymmetricEigen(n, a);
        for (int j = 0; j < n; j++) Assert.That(values[j], Is.EqualTo(lambda[j]).Within(1e-13), $"λ{j}");
        Assert.That(MaxResidual(n, a, values, vectors), Is.LessThan(1e-13));
    }

    [Test]
    public void RejectsTooLargeAndMismatchedShapes()
    {
        using var big = Device.Allocate<float>(1, SymmetricEigenExtensions.MaxSymmetricEigenSize + 1, SymmetricEigenExtensions.MaxSymmetricEigenSize + 1);
        using var bv = Device.Allocate<float>(1, SymmetricEigenExtensions.MaxSymmetricEigenSize + 1);
        using var bV = Device.Allocate<float>(1, SymmetricEigenExtensions.MaxSymmetricEigenSize + 1, SymmetricEigenExtensions.MaxSymmetricEigenSize + 1);
        Assert.That(() => Device.SymmetricEigen(big, bv, bV), Throws.InstanceOf<ShapeException>().With.Message.Contains("Lanczos"));
        using var a = Device.Allocate<float>(2, 3, 3);
        using var wrong = Device.Allocate<float>(2, 4);
        using var vectors = Device.Allocate<float>(2, 3, 3);
        Assert.That(() => Device.SymmetricEigen(a, wrong, vectors), Throws.InstanceOf<ShapeException>().With.Message.Contains("values"));
    }

    /// <summary>Samples: 0–2 random spectra, 3 the zero matrix, 4 already diagonal (unsorted), 5 a repeated eigenvalue.</summary>
    private void Check<T>(int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int batch = 6;
        var a = new double[batch * n * n];
        var spectra = new double[batch][];
        for (int s = 0; s < batch; s++)
        {
            var lambda = Enumerable.Range(0, n).Select(i => -2 + 0.25 * i + 0.05 * s).ToArray();
            if (s == 3) lambda = new double[n];
            if (s == 5 && n > 1) lambda[1] = lambda[0];
            var rng = new Random(s + n);
            lambda = lambda.OrderBy(_ => rng.Next()).ToArray();
            var m = s == 4 ? Diagonal(lambda) : WithSpectrum(lambda, 100 * s + n);
            // float32-representable inputs, symmetric bit for bit
            for (int i = 0; i < n; i++) for (int j = 0; j <= i; j++) m[i * n + j] = m[j * n + i] = (float)m[j * n + i];
            m.CopyTo(a, s * n * n);
            spectra[s] = lambda;
        }
        using var A = Device.FromArray(To<T>(a), batch, n, n);
        using var values = Device.Allocate<T>(batch, n);
        using var vectors = Device.Allocate<T>(batch, n, n);
        Device.SymmetricEigen(A, values, vectors);
        var w = values.ToArray().Select(double.CreateChecked).ToArray();
        var v = vectors.ToArray().Select(double.CreateChecked).ToArray();
        string what = $"symmetric-eigen<{typeof(T).Name}> n={n}";
        for (int s = 0; s < batch; s++)
        {
            var m = a[(s * n * n)..((s + 1) * n * n)];
            double norm = Math.Sqrt(m.Sum(x => x * x)) + 1e-300, bar = 64 * n * Unit<T>() * Math.Max(norm, 1);
            var (refValues, refVectors) = ReferenceKernels.SymmetricEigen(n, m);
            var ws = w[(s * n)..((s + 1) * n)];
            var vs = v[(s * n * n)..((s + 1) * n * n)];
            for (int j = 0; j < n; j++) Assert.That(ws[j], Is.EqualTo(refValues[j]).Within(bar), $"{what} sample {s} λ{j}");
            for (int j = 1; j < n; j++) Assert.That(ws[j], Is.GreaterThanOrEqualTo(ws[j - 1]), $"{what} sample {s}: ascending");
            Assert.That(MaxResidual(n, m, ws, vs), Is.LessThan(bar), $"{what} sample {s}: residual ‖Av − λv‖");
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    double dot = 0;
                    for (int k = 0; k < n; k++) dot += vs[i * n + k] * vs[j * n + k];
                    Assert.That(dot, Is.EqualTo(i == j ? 1 : 0).Within(64 * n * Unit<T>()), $"{what} sample {s}: orthonormal rows {i},{j}");
                }
            if (s is 0 or 1 or 2 or 4)
            {
                // The minimum eigenvector (what splitting uses), against the reference up to sign; the gap is ≥ 0.25.
                double dot = 0;
                for (int k = 0; k < n; k++) dot += vs[k] * refVectors[k];
                Assert.That(Math.Abs(dot), Is.EqualTo(1).Within(bar / 0.25), $"{what} sample {s}: v_min");
            }
        }
    }

    private static double MaxResidual(int n, double[] a, double[] values, double[] vectors)
    {
        double worst = 0;
        for (int j = 0; j < n; j++)
            for (int i = 0; i < n; i++)
            {
                double r = -values[j] * vectors[j * n + i];
                for (int k = 0; k < n; k++) r += a[i * n + k] * vectors[j * n + k];
                worst = Math.Max(worst, Math.Abs(r));
            }
        return worst;
    }

    private static double[] Diagonal(double[] lambda)
    {
        int n = lambda.Length;
        var m = new double[n * n];
        for (int i = 0; i < n; i++) m[i * n + i] = lambda[i];
        return m;
    }

    /// <summary>Q·diag(λ)·Qᵀ with Q orthogonal (Gram–Schmidt of a seeded random matrix).</summary>
    private static double[] WithSpectrum(double[] lambda, int seed)
    {
        int n = lambda.Length;
        var q = Random(n * n, seed);
        for (int j = 0; j < n; j++)
        {
            for (int k = 0; k < j; k++)
            {
                double dot = 0;
                for (int i = 0; i < n; i++) dot += q[i * n + j] * q[i * n + k];
                for (int i = 0; i < n; i++) q[i * n + j] -= dot * q[i * n + k];
            }
            double norm = Math.Sqrt(Enumerable.Range(0, n).Sum(i => q[i * n + j] * q[i * n + j]));
            for (int i = 0; i < n; i++) q[i * n + j] /= norm;
        }
        var m = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                for (int k = 0; k < n; k++) m[i * n + j] += q[i * n + k] * lambda[k] * q[j * n + k];
        return m;
    }
}
