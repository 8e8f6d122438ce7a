using OptEq.Kernels;
using OptEq.Kernels.Native;
using OptEq.Kernels.Peers;

namespace OptEq.Cli.Bench;

/// <summary>One measured line: a backend's GFLOP/s on a case, beside its peer's measured in the same run.</summary>
public sealed record GemmResult(GemmCase Case, string Backend, double Gflops, string? Peer, double? PeerGflops)
{
    public double? Ratio => PeerGflops is > 0 ? Gflops / PeerGflops : null;
}

/// <summary>A backend's product disagrees with the reference or with its peer: the figures would mean nothing.</summary>
public sealed class GemmCheckException(string message) : Exception(message);

/// <summary>
/// Runs the GEMM benchmark: for each case, checks every backend's product, then times it beside its peer —
/// the native CPU sgemm (through <see cref="GemmExtensions.Gemm{T}"/>, what users call) beside OpenBLAS cblas_sgemm, and
/// optionally an ILGPU device beside cuBLAS. Measures C ← op(A)·op(B) (α = 1, β = 0).
/// </summary>
public sealed unsafe class GemmBench : IDisposable
{
    /// <summary>Rows of C checked against the float64 reference (the full product is compared with the peer).</summary>
    private const int ReferenceRows = 8;

    private readonly NativeCpuDevice _cpu = new();
    private readonly Device? _device;
    private readonly CuBlasPeer? _cuBlas;

    /// <param name="device">An ILGPU device to time as well, or null for the native CPU only.</param>
    public GemmBench(Device? device)
    {
        _device = device;
        if (device is not null && device.Kind == DeviceKind.Cuda) _cuBlas = CuBlasPeer.TryCreate(device, out _);
        OpenBlasAvailable = OpenBlas.TryLoad(out var why);
        OpenBlasAbsentReason = why;
    }

    public bool OpenBlasAvailable { get; }
    public string? OpenBlasAbsentReason { get; }
    public Device Cpu => _cpu;

    /// <summary>Why the extra device is no longer timed (its backend lacks GEMM), or null.</summary>
    public string? DeviceSkipped { get; private set; }

    public IReadOnlyList<GemmResult> Run(GemmCase c, double seconds)
    {
        var random = new Random(HashCode.Combine(c.M, c.N, c.K, c.TransA, c.TransB));
        int aRows = c.TransA ? c.K : c.M, aCols = c.TransA ? c.M : c.K;
        int bRows = c.TransB ? c.N : c.K, bCols = c.TransB ? c.K : c.N;
        var a = RandomArray(random, c.M * c.K);
        var b = RandomArray(random, c.K * c.N);
        var opA = c.TransA ? MatrixOp.Transpose : MatrixOp.None;
        var opB = c.TransB ? MatrixOp.Transpose : MatrixOp.None;

        using var tA = _cpu.FromArray<float>(a, aRows, aCols);
        using var tB = _cpu.FromArray<float>(b, bRows, bCols);
        using var tC = _cpu.Allocate<float>(c.M, c.N);
        using var tPeer = _cpu.Allocate<float>(c.M, c.N);
        float* pA = Pointer(tA), pB = Pointer(tB), pPeer = Pointer(tPeer);
        void Native() => _cpu.Gemm(opA, opB, 1f, tA, tB, 0f, tC);
        void Peer() => OpenBlas.Sgemm(c.TransA, c.TransB, c.M, c.N, c.K, 1f, pA, aCols, pB, bCols, 0f, pPeer, c.N);

        // Check first: the native product against float64 on sampled rows, then everything against OpenBLAS.
        Native();
        var native = tC.ToArray();
        CheckAgainstReference(c, a, b, native, "cpu");
        var scale = MagnitudeScale(c, a, b);
        if (OpenBlasAvailable)
        {
            Peer();
            Compare(c, "cpu", native, "openblas", tPeer.ToArray(), scale);
        }

        var results = new List<GemmResult>();
        if (OpenBlasAvailable)
        {
            var t = GemmTiming.MedianSeconds([(Native, NoSync), (Peer, NoSync)], seconds);
            results.Add(new GemmResult(c, _cpu.Id, c.Flops / t[0] / 1e9, "openblas", c.Flops / t[1] / 1e9));
        }
        else
        {
            var t = GemmTiming.MedianSeconds([(Native, NoSync)], seconds);
            results.Add(new GemmResult(c, _cpu.Id, c.Flops / t[0] / 1e9, null, null));
        }

        if (_device is not null && DeviceSkipped is null)
        {
            try { results.Add(RunDevice(c, a, b, aRows, aCols, bRows, bCols, native, scale, seconds)); }
            catch (NotSupportedException e) { DeviceSkipped = $"{_device.Id}: {e.Message}"; }
        }
        return results;
    }

    /// <summary>The ILGPU device beside cuBLAS (on CUDA), each checked against the native product first.</summary>
    private GemmResult RunDevice(GemmCase c, float[] a, float[] b, int aRows, int aCols, int bRows, int bCols, float[] native, double[] scale, double seconds)
    {
        var d = _device!;
        var opA = c.TransA ? MatrixOp.Transpose : MatrixOp.None;
        var opB = c.TransB ? MatrixOp.Transpose : MatrixOp.None;
        using var dA = d.FromArray<float>(a, aRows, aCols);
        using var dB = d.FromArray<float>(b, bRows, bCols);
        using var dC = d.Allocate<float>(c.M, c.N);
        using var dPeer = d.Allocate<float>(c.M, c.N);
        void Gemm() => d.Gemm(opA, opB, 1f, dA, dB, 0f, dC);
        void Sync() => d.Synchronize();
        Gemm();
        Compare(c, "cpu", native, d.Id, dC.ToArray(), scale);
        if (_cuBlas is null)
        {
            var t = GemmTiming.MedianSeconds([(Gemm, Sync)], seconds);
            return new GemmResult(c, d.Id, c.Flops / t[0] / 1e9, null, null);
        }
        void CuBlas() => _cuBlas.Sgemm(c.TransA, c.TransB, c.M, c.N, c.K, 1f, dA, dB, 0f, dPeer);
        CuBlas();
        Compare(c, "cpu", native, "cublas", dPeer.ToArray(), scale);
        var times = GemmTiming.MedianSeconds([(Gemm, Sync), (CuBlas, Sync)], seconds);
        return new GemmResult(c, d.Id, c.Flops / times[0] / 1e9, "cublas", c.Flops / times[1] / 1e9);
    }

    private static void NoSync() { }

    /// <summary>
    /// Allowed error of one element: (√k + 1)·1e-6 of S = Σₚ|op(A)ᵢₚ·op(B)ₚⱼ|, the scale of float32 rounding in a k-term
    /// dot product (typically √k·6e-8·S); a missing or wrong term is off by about S/k or more.
    /// </summary>
    private static double Tolerance(int k) => (Math.Sqrt(k) + 1) * 1e-6;

    /// <summary>Sampled rows of the product against a float64 computation.</summary>
    private static void CheckAgainstReference(GemmCase c, float[] a, float[] b, float[] actual, string backend)
    {
        double tolerance = Tolerance(c.K);
        foreach (int i in SampleRows(c.M))
            for (int j = 0; j < c.N; j++)
            {
                double sum = 0, magnitude = 0;
                for (int p = 0; p < c.K; p++)
                {
                    double term = (double)OpA(c, a, i, p) * OpB(c, b, p, j);
                    sum += term;
                    magnitude += Math.Abs(term);
                }
                double error = Math.Abs(actual[i * c.N + j] - sum);
                if (!(error <= tolerance * magnitude))
                    throw new GemmCheckException(
                        $"gemm {c.M}x{c.N}x{c.K} {c.Ops}: {backend} C[{i}, {j}] = {actual[i * c.N + j]}, float64 reference {sum} " +
                        $"(error {error:E2} > allowed {tolerance * magnitude:E2})");
            }
    }

    /// <summary>S[i, j] = Σₚ|op(A)ᵢₚ|·|op(B)ₚⱼ| for every element, by the (already checked) native GEMM on |A| and |B|.</summary>
    private double[] MagnitudeScale(GemmCase c, float[] a, float[] b)
    {
        using var absA = _cpu.FromArray<float>(a.Select(Math.Abs).ToArray(), c.TransA ? c.K : c.M, c.TransA ? c.M : c.K);
        using var absB = _cpu.FromArray<float>(b.Select(Math.Abs).ToArray(), c.TransB ? c.N : c.K, c.TransB ? c.K : c.N);
        using var s = _cpu.Allocate<float>(c.M, c.N);
        _cpu.Gemm(c.TransA ? MatrixOp.Transpose : MatrixOp.None, c.TransB ? MatrixOp.Transpose : MatrixOp.None, 1f, absA, absB, 0f, s);
        return s.ToArray().Select(x => (double)x).ToArray();
    }

    /// <summary>Two float32 products of the same operands, element by element (each may be off by the tolerance).</summary>
    private static void Compare(GemmCase c, string expectedName, float[] expected, string actualName, float[] actual, double[] scale)
    {
        double tolerance = 2 * Tolerance(c.K);
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs((double)actual[i] - expected[i]);
            if (!(error <= tolerance * scale[i]))
                throw new GemmCheckException(
                    $"gemm {c.M}x{c.N}x{c.K} {c.Ops}: {actualName} C[{i / c.N}, {i % c.N}] = {actual[i]}, {expectedName} {expected[i]} " +
                    $"(difference {error:E2} > allowed {tolerance * scale[i]:E2})");
        }
    }

    private static IEnumerable<int> SampleRows(int m) =>
        Enumerable.Range(0, ReferenceRows).Select(r => (int)((long)(m - 1) * r / (ReferenceRows - 1))).Distinct();

    private static float OpA(GemmCase c, float[] a, int i, int p) => c.TransA ? a[p * c.M + i] : a[i * c.K + p];
    private static float OpB(GemmCase c, float[] b, int p, int j) => c.TransB ? b[j * c.K + p] : b[p * c.N + j];

    private static float* Pointer(Tensor<float> t) => ((NativeStorage<float>)t.Storage).Pointer + t.Offset;

    private static float[] RandomArray(Random random, int length)
    {
        var x = new float[length];
        for (int i = 0; i < length; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
        return x;
    }

    public void Dispose()
    {
        _cuBlas?.Dispose();
        _cpu.Dispose();
    }
}
