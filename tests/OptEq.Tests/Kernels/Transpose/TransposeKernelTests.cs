using System.Numerics;
using NUnit.Framework;
using OptEq.Kernels.Reference;
using static OptEq.Tests.Kernels.KernelAssert;

namespace OptEq.Tests.Kernels;

[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public sealed class TransposeKernelTests(string backend) : KernelTestsBase(backend)
{
    // Transpose moves data: exact.

    [TestCase(1, 1)]
    [TestCase(33, 65)]
    [TestCase(5, 300)]
    [TestCase(70, 3)]
    public void TransposeStridedViews(int m, int n)
    {
        CheckTranspose<float>(m, n);
        CheckTranspose<double>(m, n);
    }

    private void CheckTranspose<T>(int m, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var a = Random(m * n, m * 1000 + n);
        using var A = new Strided<T>(Device, a, 3, m, n);
        using var R = new Strided<T>(Device, new double[m * n], 1, n, m);
        Device.Transpose(A.View, R.View);
        Exact(ReferenceKernels.Transpose(m, n, a), R.Values, $"transpose<{typeof(T).Name}> {m}×{n}");
        R.AssertPaddingUntouched("transpose");
    }
}
