using System.Numerics;
using NUnit.Framework;
using OptEq.Kernels;
using OptEq.Kernels.Reference;
using static OptEq.Tests.Kernels.KernelAssert;

namespace OptEq.Tests.Kernels;

[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public sealed class SpdInverseKernelTests(string backend) : KernelTestsBase(backend)
{
    // The matrices are BᵀB/n + λI with B's entries in [−1, 1] and λ = 1, so κ₂ ≤ 1 + n. Cholesky, the triangular inverse
    // and L⁻ᵀL⁻¹ are backward stable up to a few n·u: |X − X_ref| ≤ 32·n·u·κ·max|X_ref|.

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(7)]
    [TestCase(13)]
    [TestCase(37)] // the native rows cross several vector widths and leave odd tails
    [TestCase(70)]
    public void SpdInverseMatchesReference(int n)
    {
        CheckInverse<float>(n);
        CheckInverse<double>(n);
    }

    /// <summary>Four matrices: 0 and 1 positive definite; 2 with a negative diagonal (not positive definite); 3 with a NaN. Status 0 0 1 1.</summary>
    private void CheckInverse<T>(int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int batch = 4;
        const double damping = 1;
        var a = new double[batch * n * n];
        for (int s = 0; s < 2; s++)
        {
            var b = Random(n * n, 50 + s + n, -1, 1);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    double sum = 0;
                    for (int k = 0; k < n; k++) sum += b[k * n + i] * b[k * n + j];
                    a[s * n * n + i * n + j] = sum / n;
                }
        }
        Array.Copy(a, 0, a, 2 * n * n, n * n);
        a[2 * n * n + (n - 1) * n + n - 1] = -5; // the last pivot goes negative
        Array.Copy(a, 0, a, 3 * n * n, n * n);
        a[3 * n * n + (n - 1) * n] = double.NaN; // lower triangle, the last row

        using var A = Device.FromArray(To<T>(a), batch, n, n);
        using var result = Device.FromArray(To<T>(Enumerable.Repeat(double.NaN, batch * n * n).ToArray()), batch, n, n);
        using var status = Device.FromArray(Enumerable.Repeat(-7, batch).ToArray(), batch);
        Device.SpdInverse(A, T.CreateChecked(damping), result, status);

        string what = $"spd-inverse<{typeof(T).Name}> n={n}";
        Assert.That(status.ToArray(), Is.EqualTo(new[] { 0, 0, 1, 1 }), what + ": status");
        Assert.That(A.ToArray().Select(double.CreateChecked), Is.EqualTo(To<T>(a).Select(double.CreateChecked)), what + ": a is not changed");
        var actual = result.ToArray();
        for (int s = 0; s < 2; s++)
        {
            var expected = ReferenceKernels.SpdInverse(n, a.Skip(s * n * n).Take(n * n).ToArray(), damping)!;
            double bound = 32 * n * Unit<T>() * (1 + n) * expected.Max(Math.Abs);
            for (int i = 0; i < n * n; i++)
                Assert.That(double.CreateChecked(actual[s * n * n + i]), Is.EqualTo(expected[i]).Within(bound), $"{what}: matrix {s}, element {i}");
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    Assert.That(actual[s * n * n + i * n + j], Is.EqualTo(actual[s * n * n + j * n + i]), $"{what}: matrix {s} is symmetric");
        }
        // The reference itself: (A + λI)·X = I in float64.
        var x0 = ReferenceKernels.SpdInverse(n, a.Take(n * n).ToArray(), damping)!;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int k = 0; k < n; k++) sum += (a[i * n + k] + (i == k ? damping : 0)) * x0[k * n + j];
                Assert.That(sum, Is.EqualTo(i == j ? 1.0 : 0.0).Within(1e-12), "reference: (A + λI)·X = I");
            }
        Assert.That(ReferenceKernels.SpdInverse(n, a.Skip(2 * n * n).Take(n * n).ToArray(), damping), Is.Null, "reference: not positive definite");
    }
}
