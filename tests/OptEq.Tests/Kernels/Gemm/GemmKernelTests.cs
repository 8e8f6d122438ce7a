using System.Numerics;
using NUnit.Framework;
using OptEq.Kernels;
using OptEq.Kernels.Reference;
using static OptEq.Tests.Kernels.KernelAssert;

namespace OptEq.Tests.Kernels;

[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public sealed class GemmKernelTests(string backend) : KernelTestsBase(backend)
{
    // Tolerance: |C − C_ref| ≤ 16·u·(√k + 2)·(|α|·Σₚ|op(A)ᵢₚ·op(B)ₚⱼ| + |β·Cᵢⱼ|). Rounding errors of a k-term sum grow
    // like √k for data like these (k in the worst case); the magnitude sum bounds the terms they come from, so the
    // bound holds for any summation order and needs no slack for cancellation. float32, k = 300: about 1.8e-5 relative
    // to the magnitude sum; float64: about 3.3e-14.
    internal static double GemmTolerance<T>(int k) => 16 * Unit<T>() * (Math.Sqrt(k) + 2);

    [Test]
    public void GemmMatchesReferenceForAllTransposes(
        [Values] Precision precision, [Values] bool transA, [Values] bool transB,
        [Values("1x1x1", "3x5x300", "17x13x29", "70x67x20")] string mnk)
    {
        var s = mnk.Split('x').Select(int.Parse).ToArray();
        Run(precision,
            () => CheckGemm<float>(s[0], s[1], s[2], transA, transB, alpha: 0.75, beta: -0.5),
            () => CheckGemm<double>(s[0], s[1], s[2], transA, transB, alpha: 0.75, beta: -0.5));
    }

    [TestCase(1.0, 0.0, TestName = "GemmScalars(α = 1, β = 0)")]
    [TestCase(-2.0, 1.0, TestName = "GemmScalars(α = −2, β = 1)")]
    [TestCase(0.0, 3.0, TestName = "GemmScalars(α = 0, β = 3)")]
    public void GemmScalars(double alpha, double beta)
    {
        CheckGemm<float>(9, 11, 7, false, true, alpha, beta);
        CheckGemm<double>(9, 11, 7, true, false, alpha, beta);
    }

    [Test]
    public void GemmWithZeroBetaDoesNotReadC([Values] Precision precision, [Values] bool transA)
        => Run(precision,
            () => CheckGemm<float>(6, 19, 23, transA, !transA, alpha: 1.5, beta: 0, nanInC: true),
            () => CheckGemm<double>(6, 19, 23, transA, !transA, alpha: 1.5, beta: 0, nanInC: true));

    [Test]
    public void GemmOnRowStridedViews([Values] Precision precision, [Values] bool transA, [Values] bool transB)
        => Run(precision,
            () => CheckGemm<float>(13, 7, 31, transA, transB, alpha: 1, beta: 0.5, pad: 3),
            () => CheckGemm<double>(13, 7, 31, transA, transB, alpha: 1, beta: 0.5, pad: 3));

    [Test]
    public void GemmWithEmptyInnerDimensionScalesC([Values] Precision precision)
        => Run(precision,
            () => CheckGemm<float>(4, 3, 0, false, false, alpha: 2, beta: -1.5),
            () => CheckGemm<double>(4, 3, 0, true, true, alpha: 2, beta: -1.5));

    [TestCase(true, true, false, false, TestName = "GemmBatched(A, B, C batched)")]
    [TestCase(true, false, true, false, TestName = "GemmBatched(B shared, Aᵀ)")]
    [TestCase(false, true, false, true, TestName = "GemmBatched(A shared, Bᵀ)")]
    public void GemmBatched(bool batchedA, bool batchedB, bool transA, bool transB)
    {
        CheckBatchedGemm<float>(batch: 3, m: 5, n: 9, k: 21, batchedA, batchedB, transA, transB);
        CheckBatchedGemm<double>(batch: 4, m: 7, n: 3, k: 10, batchedA, batchedB, transA, transB);
    }

    private void CheckGemm<T>(int m, int n, int k, bool transA, bool transB, double alpha, double beta, int pad = 0, bool nanInC = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int seed = ((m * 31 + n) * 31 + k) * 8 + (transA ? 4 : 0) + (transB ? 2 : 0) + pad; // fixed data per case
        var a = Random(m * k, seed);
        var b = Random(k * n, seed + 1);
        var c0 = nanInC ? Enumerable.Repeat(double.NaN, m * n).ToArray() : Random(m * n, seed + 2);
        using var A = new Strided<T>(Device, a, pad, transA ? [k, m] : [m, k]);
        using var B = new Strided<T>(Device, b, pad, transB ? [n, k] : [k, n]);
        using var C = new Strided<T>(Device, c0, pad, m, n);

        Device.Gemm(transA ? MatrixOp.Transpose : MatrixOp.None, transB ? MatrixOp.Transpose : MatrixOp.None,
            T.CreateChecked(alpha), A.View, B.View, T.CreateChecked(beta), C.View);

        var expected = (double[])c0.Clone();
        ReferenceKernels.Gemm(transA, transB, m, n, k, alpha, a, b, beta, expected);
        var scale = Magnitudes(transA, transB, m, n, k, alpha, a, b, beta, c0);
        string what = $"gemm<{typeof(T).Name}> {m}×{n}×{k} op(A)={(transA ? "T" : "N")} op(B)={(transB ? "T" : "N")} α={alpha} β={beta} pad={pad}";
        Close(expected, C.Values, GemmTolerance<T>(k), i => scale[i], what);
        C.AssertPaddingUntouched(what);
    }

    /// <summary>C [batch, m, n] with A and B batched or shared (rank 2); C is also row-strided, so its batch stride is not m·n.</summary>
    private void CheckBatchedGemm<T>(int batch, int m, int n, int k, bool batchedA, bool batchedB, bool transA, bool transB)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int[] aShape = transA ? [k, m] : [m, k], bShape = transB ? [n, k] : [k, n];
        var a = Random((batchedA ? batch : 1) * m * k, 11);
        var b = Random((batchedB ? batch : 1) * k * n, 12);
        var c0 = Random(batch * m * n, 13);
        using var A = new Strided<T>(Device, a, 0, batchedA ? [batch, .. aShape] : aShape);
        using var B = new Strided<T>(Device, b, 0, batchedB ? [batch, .. bShape] : bShape);
        using var C = new Strided<T>(Device, c0, 2, batch, m, n);
        double alpha = 1.25, beta = 0.5;

        Device.Gemm(transA ? MatrixOp.Transpose : MatrixOp.None, transB ? MatrixOp.Transpose : MatrixOp.None,
            T.CreateChecked(alpha), A.View, B.View, T.CreateChecked(beta), C.View);

        var expected = new double[batch * m * n];
        var scale = new double[batch * m * n];
        for (int s = 0; s < batch; s++)
        {
            var aS = batchedA ? a[(s * m * k)..((s + 1) * m * k)] : a;
            var bS = batchedB ? b[(s * k * n)..((s + 1) * k * n)] : b;
            var cS = c0[(s * m * n)..((s + 1) * m * n)];
            var magnitude = Magnitudes(transA, transB, m, n, k, alpha, aS, bS, beta, cS);
            ReferenceKernels.Gemm(transA, transB, m, n, k, alpha, aS, bS, beta, cS);
            cS.CopyTo(expected, s * m * n);
            magnitude.CopyTo(scale, s * m * n);
        }
        string what = $"batched gemm<{typeof(T).Name}> {batch}×{m}×{n}×{k} A {(batchedA ? "batched" : "shared")} B {(batchedB ? "batched" : "shared")}";
        Close(expected, C.Values, GemmTolerance<T>(k), i => scale[i], what);
        C.AssertPaddingUntouched(what);
    }

    /// <summary>|α|·|op(A)|·|op(B)| + |β|·|C| elementwise: what each element of the product is made of.</summary>
    internal static double[] Magnitudes(bool transA, bool transB, int m, int n, int k, double alpha, double[] a, double[] b, double beta, double[] c)
    {
        var scale = c.Select(Math.Abs).ToArray();
        ReferenceKernels.Gemm(transA, transB, m, n, k, Math.Abs(alpha), a.Select(Math.Abs).ToArray(), b.Select(Math.Abs).ToArray(), Math.Abs(beta), scale);
        return scale;
    }
}
