using NUnit.Framework;
using OptEq.Kernels;
using OptEq.Kernels.Native;
using OptEq.Kernels.Reference;

namespace OptEq.Tests;

/// <summary>
/// The native float32 GEMM (through <see cref="GemmExtensions.Gemm{T}"/> on <see cref="NativeCpuDevice"/>) against the float64
/// reference, at shapes that hit the packed path's edges: micro-tile rows (14) and columns (32), the 16-wide packing
/// transposes, the one-vector tile for a last panel of ≤ 16 columns, the cache blocks (KC = 256, MC = 168, NC = 4096),
/// both thread partitions, strided views and batches. The fixture runs once per vector width this CPU accelerates (and
/// scalar): the AVX-512 14×32 kernel, the 6×16 256-bit and 6×8 128-bit kernels (whose tiles, 6 rows and 8 or 16 columns,
/// the shapes also straddle), and the scalar <c>SimpleGemm</c>.
/// </summary>
/// <remarks>
/// Tolerance: each element's error is measured against the sum of the magnitudes of what went into it,
/// S = |α|·Σₚ|op(A)ᵢₚ·op(B)ₚⱼ| + |β·Cᵢⱼ|, and must stay below (√k + 1)·1e-6·S. A float32 dot product of k terms has a
/// worst-case error of k·2⁻²⁴·S and a typical one near √k·2⁻²⁴·S, so this bound holds with room for any summation order
/// while catching a wrong, missing or doubled term (an error of order S/k or more).
/// </remarks>
[TestFixtureSource(nameof(Widths)), NonParallelizable]
public class NativeGemmTests(int widthBits)
{
    /// <summary>Every width this CPU runs, in bits (0: scalar).</summary>
    public static IEnumerable<int> Widths => SimdWidth.Supported.Select(w => (int)w);

    [OneTimeSetUp]
    public void SetWidth() => SimdWidth.Override = (VectorWidth)widthBits;

    [OneTimeTearDown]
    public void RestoreWidth() => SimdWidth.Override = null;

    public static IEnumerable<TestCaseData> Shapes()
    {
        int[][] shapes =
        [
            [1, 1, 1], [2, 3, 1], [7, 13, 29], [31, 37, 41],
            [13, 31, 15], [14, 32, 16], [15, 33, 17], [27, 63, 255], [28, 64, 256], [29, 65, 257],
            [3, 5, 2000], [167, 20, 30], [168, 33, 12], [169, 97, 513], [16, 16, 16], [9, 48, 33],
            [128, 256, 256], [180, 200, 300], [500, 20, 300], [3, 4200, 20], [44, 44, 44], [128, 10, 256],
            [6, 16, 8], [5, 15, 9], [7, 17, 513], [143, 8, 7], [145, 9, 260], [12, 24, 3],
        ];
        foreach (var s in shapes)
            foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
                yield return new TestCaseData(s[0], s[1], s[2], ta, tb).SetName($"Gemm {s[0]}x{s[1]}x{s[2]} {(ta ? "At" : "A")}·{(tb ? "Bt" : "B")}");
    }

    [TestCaseSource(nameof(Shapes))]
    public void MatchesReference(int m, int n, int k, bool transA, bool transB)
        => Check(m, n, k, transA, transB, alpha: 1.5f, beta: 0.5f);

    /// <summary>
    /// The packed kernel itself at sizes <c>NativeGemm.Gemm</c> sends to SimpleGemm at 256 and 128 bits (tiny or of one or
    /// two rows): <c>NativeGemm.Sgemm</c> has no such cut-off, and the fused prox epilogue calls it at every size.
    /// </summary>
    [Test]
    public unsafe void PackedKernelAtTinyShapes()
    {
        if (NativeGemm.KernelFor(SimdWidth.Current) is null) Assert.Ignore("no packed sgemm runs at the scalar width");
        int[][] shapes = [[1, 1, 1], [1, 5, 95], [2, 3, 1], [5, 15, 9], [6, 16, 8], [7, 17, 33], [12, 24, 3], [2, 40, 300]];
        foreach (var s in shapes)
            foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
            {
                int m = s[0], n = s[1], k = s[2];
                var random = new Random(m * 31 + n * 7 + k);
                float[] a = RandomArray(random, m * k), b = RandomArray(random, k * n), c = RandomArray(random, m * n);
                var result = (float[])c.Clone();
                fixed (float* pa = a, pb = b, pc = result)
                    NativeGemm.Sgemm(ta, tb, m, n, k, 1.5f, pa, ta ? m : k, pb, tb ? k : n, 0.5f, pc, n);
                var expected = ToDouble(c);
                ReferenceKernels.Gemm(ta, tb, m, n, k, 1.5, ToDouble(a), ToDouble(b), 0.5, expected);
                var bound = MagnitudeBound(ta, tb, m, n, k, 1.5, ToDouble(a), ToDouble(b), 0.5, ToDouble(c));
                AssertClose(result, expected, bound, k, $"packed {m}x{n}x{k} transA={ta} transB={tb}");
            }
    }

    [TestCase(0f)]
    [TestCase(1f)]
    [TestCase(0.5f)]
    [TestCase(-2f)]
    public void AppliesAlphaAndBeta(float beta)
    {
        foreach (var (ta, tb) in new[] { (false, false), (true, true) })
        {
            Check(45, 70, 33, ta, tb, alpha: -0.75f, beta: beta);
            Check(5, 7, 3, ta, tb, alpha: 2f, beta: beta);
        }
    }

    [TestCase(1, 1, 1)]
    [TestCase(29, 65, 257)]
    [TestCase(100, 70, 60)]  // two threads
    public void BetaZeroNeverReadsC(int m, int n, int k)
    {
        foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
            Check(m, n, k, ta, tb, alpha: 1f, beta: 0f, fillCWithNaN: true);
    }

    [Test]
    public void KZeroScalesC()
    {
        using var device = new NativeCpuDevice();
        using var a = device.Allocate<float>(3, 0);
        using var b = device.Allocate<float>(0, 4);
        using var c = device.FromArray(Enumerable.Repeat(2f, 12).ToArray(), 3, 4);
        device.Gemm(MatrixOp.None, MatrixOp.None, 1f, a, b, 0.5f, c);
        Assert.That(c.ToArray(), Is.All.EqualTo(1f));
        c.CopyFrom(Enumerable.Repeat(float.NaN, 12).ToArray());
        device.Gemm(MatrixOp.None, MatrixOp.None, 1f, a, b, 0f, c);
        Assert.That(c.ToArray(), Is.All.EqualTo(0f));
    }

    [TestCase(7, 13, 29)]
    [TestCase(33, 70, 300)]
    public void StridedViews(int m, int n, int k)
    {
        // Every operand is a column slice of a wider matrix, so its row stride exceeds its column count.
        foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
            Check(m, n, k, ta, tb, alpha: 1.25f, beta: 0.5f, padding: 5);
    }

    [Test]
    public void BatchedWithSharedB()
    {
        const int batch = 3, m = 20, n = 40, k = 35;
        using var device = new NativeCpuDevice();
        var random = new Random(7);
        float[] a = RandomArray(random, batch * m * k), b = RandomArray(random, k * n), c = RandomArray(random, batch * m * n);
        using var ta = device.FromArray(a, batch, m, k);
        using var tb = device.FromArray(b, k, n);
        using var tc = device.FromArray(c, batch, m, n);
        device.Gemm(MatrixOp.None, MatrixOp.None, 0.5f, ta, tb, 1f, tc);
        var result = tc.ToArray();
        for (int s = 0; s < batch; s++)
        {
            var aS = ToDouble(a.AsSpan(s * m * k, m * k));
            var cS = ToDouble(c.AsSpan(s * m * n, m * n));
            var expected = (double[])cS.Clone();
            ReferenceKernels.Gemm(false, false, m, n, k, 0.5, aS, ToDouble(b), 1.0, expected);
            var bound = MagnitudeBound(false, false, m, n, k, 0.5, aS, ToDouble(b), 1.0, cS);
            AssertClose(result.AsSpan(s * m * n, m * n), expected, bound, k, $"batch {s}");
        }
    }

    [Test]
    public void Float64MatchesReference()
    {
        using var device = new NativeCpuDevice();
        var random = new Random(3);
        foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
        {
            const int m = 17, n = 23, k = 31;
            var a = Enumerable.Range(0, m * k).Select(_ => random.NextDouble() * 2 - 1).ToArray();
            var b = Enumerable.Range(0, k * n).Select(_ => random.NextDouble() * 2 - 1).ToArray();
            var c = Enumerable.Range(0, m * n).Select(_ => random.NextDouble() * 2 - 1).ToArray();
            using var tA = ta ? device.FromArray<double>(a, k, m) : device.FromArray<double>(a, m, k);
            using var tB = tb ? device.FromArray<double>(b, n, k) : device.FromArray<double>(b, k, n);
            using var tC = device.FromArray<double>(c, m, n);
            device.Gemm(ta ? MatrixOp.Transpose : MatrixOp.None, tb ? MatrixOp.Transpose : MatrixOp.None, 0.5, tA, tB, 2.0, tC);
            ReferenceKernels.Gemm(ta, tb, m, n, k, 0.5, a, b, 2.0, c);
            Assert.That(tC.ToArray(), Is.EqualTo(c).Within(1e-12), $"transA={ta} transB={tb}");
        }
    }

    [TestCase(1, 1, 1)]
    [TestCase(31, 37, 41)]
    public unsafe void SimpleFallbackMatchesReference(int m, int n, int k)
    {
        // The float32 path of CPUs without AVX-512 (here it is called directly).
        var random = new Random(11);
        foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
        {
            float[] a = RandomArray(random, m * k), b = RandomArray(random, k * n), c = RandomArray(random, m * n);
            var expected = ToDouble(c);
            ReferenceKernels.Gemm(ta, tb, m, n, k, 0.5, ToDouble(a), ToDouble(b), 2.0, expected);
            var bound = MagnitudeBound(ta, tb, m, n, k, 0.5, ToDouble(a), ToDouble(b), 2.0, ToDouble(c));
            fixed (float* pa = a, pb = b, pc = c)
                SimpleGemm.Run(ta, tb, m, n, k, 0.5f, pa, ta ? m : k, pb, tb ? k : n, 2f, pc, n);
            AssertClose(c, expected, bound, k, $"simple {m}x{n}x{k} transA={ta} transB={tb}");
        }
    }

    [Test]
    public void ConcurrentCallersGetTheirOwnProducts()
    {
        // The worker team serves one call at a time; the others run on their own threads. All must be right.
        const int m = 70, n = 90, k = 110;
        var results = new float[4][];
        var expected = new float[4][];
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
        {
            using var device = new NativeCpuDevice();
            var random = new Random(t);
            float[] a = RandomArray(random, m * k), b = RandomArray(random, k * n);
            using var tA = device.FromArray(a, m, k);
            using var tB = device.FromArray(b, n, k);
            using var tC = device.Allocate<float>(m, n);
            for (int i = 0; i < 20; i++) device.Gemm(MatrixOp.None, MatrixOp.Transpose, 1f, tA, tB, 0f, tC);
            results[t] = tC.ToArray();
            var reference = new double[m * n];
            ReferenceKernels.Gemm(false, true, m, n, k, 1.0, ToDouble(a), ToDouble(b), 0.0, reference);
            expected[t] = reference.Select(x => (float)x).ToArray();
        });
        for (int t = 0; t < 4; t++)
            Assert.That(results[t], Is.EqualTo(expected[t]).Within(1e-4f), $"caller {t}");
    }

    [TestCase(64, 64, 64)]     // one thread
    [TestCase(128, 256, 256)]  // both threads
    public unsafe void SteadyStateCallsAllocateNothing(int m, int n, int k)
    {
        // NativeGemm.Sgemm is the packed path of the current width itself (NativeGemm.Gemm falls back without one).
        if (NativeGemm.KernelFor(SimdWidth.Current) is null) Assert.Ignore("no packed sgemm runs at the scalar width");
        var a = GC.AllocateArray<float>(m * k, pinned: true);
        var b = GC.AllocateArray<float>(k * n, pinned: true);
        var c = GC.AllocateArray<float>(m * n, pinned: true);
        fixed (float* pa = a, pb = b, pc = c)
        {
            for (int i = 0; i < 3; i++) NativeGemm.Sgemm(false, true, m, n, k, 1f, pa, k, pb, k, 0f, pc, n); // first calls size the buffers
            float* a0 = pa, b0 = pb, c0 = pc;
            SteadyStateAllocation.AssertNone(() => NativeGemm.Sgemm(false, true, m, n, k, 1f, a0, k, b0, k, 0f, c0, n), 20, "sgemm");
        }
    }

    // ---- helpers --------------------------------------------------------------------------------------

    private static void Check(int m, int n, int k, bool transA, bool transB, float alpha, float beta, bool fillCWithNaN = false, int padding = 0)
    {
        using var device = new NativeCpuDevice();
        var random = new Random(m * 10007 + n * 101 + k);
        int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
        float[] a = RandomArray(random, m * k), b = RandomArray(random, k * n);
        float[] c = fillCWithNaN ? Enumerable.Repeat(float.NaN, m * n).ToArray() : RandomArray(random, m * n);

        using var aStore = device.Allocate<float>(aRows, aCols + padding);
        using var bStore = device.Allocate<float>(bRows, bCols + padding);
        using var cStore = device.Allocate<float>(m, n + padding);
        var tA = aStore.SliceColumns(padding / 2, aCols);
        var tB = bStore.SliceColumns(padding / 2, bCols);
        var tC = cStore.SliceColumns(padding / 2, n);
        tA.CopyFrom(a);
        tB.CopyFrom(b);
        tC.CopyFrom(c);
        device.Gemm(transA ? MatrixOp.Transpose : MatrixOp.None, transB ? MatrixOp.Transpose : MatrixOp.None, alpha, tA, tB, beta, tC);
        var result = tC.ToArray();

        var cD = fillCWithNaN ? new double[m * n] : ToDouble(c);
        var expected = (double[])cD.Clone();
        ReferenceKernels.Gemm(transA, transB, m, n, k, alpha, ToDouble(a), ToDouble(b), beta, expected);
        var bound = MagnitudeBound(transA, transB, m, n, k, alpha, ToDouble(a), ToDouble(b), beta, cD);
        AssertClose(result, expected, bound, k, $"{m}x{n}x{k} transA={transA} transB={transB} α={alpha} β={beta}");

        if (padding > 0)
        {
            // Columns outside the C view are untouched.
            var whole = cStore.ToArray();
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n + padding; j++)
                    if (j < padding / 2 || j >= padding / 2 + n)
                        Assert.That(whole[i * (n + padding) + j], Is.Zero, $"C padding at row {i}, column {j} was written");
        }
    }

    /// <summary>S[i, j] = |α|·Σₚ|op(A)ᵢₚ·op(B)ₚⱼ| + |β·Cᵢⱼ|: the scale of the rounding error (see the class remarks).</summary>
    private static double[] MagnitudeBound(bool transA, bool transB, int m, int n, int k, double alpha, double[] a, double[] b, double beta, double[] c)
    {
        var absA = a.Select(Math.Abs).ToArray();
        var absB = b.Select(Math.Abs).ToArray();
        var s = c.Select(x => Math.Abs(beta * x)).ToArray();
        ReferenceKernels.Gemm(transA, transB, m, n, k, Math.Abs(alpha), absA, absB, 1.0, s);
        return s;
    }

    private static void AssertClose(ReadOnlySpan<float> actual, double[] expected, double[] bound, int k, string what)
    {
        double tolerance = (Math.Sqrt(k) + 1) * 1e-6;
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]);
            if (!(error <= tolerance * bound[i] + 1e-30))
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]} (error {error:E2}, allowed {tolerance * bound[i]:E2})");
        }
    }

    private static float[] RandomArray(Random random, int length)
    {
        var x = new float[length];
        for (int i = 0; i < length; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
        return x;
    }

    private static double[] ToDouble(ReadOnlySpan<float> x)
    {
        var d = new double[x.Length];
        for (int i = 0; i < x.Length; i++) d[i] = x[i];
        return d;
    }
}
