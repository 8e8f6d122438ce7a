using NUnit.Framework;
using OptEq.Autodiff.Growth;
using OptEq.Kernels.Reference;
using OptEq.Tests.Kernels;

namespace OptEq.Tests.Growth;

/// <summary>
/// The batched splitting-matrix products (float64 GEMMs, docs/math.md §5.4) and the exact eigenpairs on every backend,
/// against the host reference loops, at small awkward sizes (N = 7 samples, D = 5, H = 3 neurons, K = 2 cross coordinates).
/// </summary>
[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public sealed class SplittingOperatorBackendTests(string backend) : KernelTestsBase(backend)
{
    [TestCase(false)]
    [TestCase(true)]
    public void DeviceProductsAndEigenpairsMatchTheReference(bool cross)
    {
        const int n = 7, d = 5, h = 3, k = 2;
        var rng = new Random(cross ? 3 : 4);
        double[] Random(int count) => Enumerable.Range(0, count).Select(_ => rng.NextDouble() - 0.5).ToArray();
        using var op = new SplittingOperator(n, d, h, Random(n * d), Random(n * h))
        {
            Device = Device, Cross = cross ? (k, Random(n * k), Random(n * h), 0.3) : null,
        };
        var reference = op.FormReference();
        var formed = op.Form();
        for (int t = 0; t < reference.Length; t++) Assert.That(formed[t], Is.EqualTo(reference[t]).Within(1e-13), $"S entry {t}");
        var v = Random(h * d);
        var expected = new double[h * d];
        var actual = new double[h * d];
        op.ApplyReference(v, expected);
        op.Apply(v, actual);
        for (int t = 0; t < expected.Length; t++) Assert.That(actual[t], Is.EqualTo(expected[t]).Within(1e-13), $"S·v entry {t}");
        var eigen = MinimumEigen.Exact(Device, op);
        for (int i = 0; i < h; i++)
        {
            var (values, _) = ReferenceKernels.SymmetricEigen(d, reference[(i * d * d)..((i + 1) * d * d)]);
            Assert.That(eigen[i].LambdaMin, Is.EqualTo(values[0]).Within(1e-12), $"neuron {i} λ_min");
            Assert.That(eigen[i].LambdaMax, Is.EqualTo(values[^1]).Within(1e-12), $"neuron {i} λ_max");
        }
    }
}
