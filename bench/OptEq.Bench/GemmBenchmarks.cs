using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using OptEq.Kernels;
using OptEq.Kernels.Native;
using OptEq.Kernels.Peers;

namespace OptEq.Bench;

/// <summary>
/// Native CPU sgemm (through <see cref="GemmExtensions.Gemm{T}"/>) against OpenBLAS cblas_sgemm on the same operands,
/// C ← A·B with α = 1, β = 0. Shapes are "MxNxK": the cubes and the OptEq layer products (batch 128 × hidden × hidden).
/// <code>dotnet run -c Release --project bench/OptEq.Bench -- --filter '*Gemm*' --job short</code>
/// OpenBLAS gets OPENBLAS_CORETYPE=SkylakeX unless the environment sets it (see <see cref="OpenBlas"/>).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(GemmConfig))]
public class GemmBenchmarks : GemmBenchmarkBase
{
    [Params("128x128x128", "256x256x256", "512x512x512", "1024x1024x1024", "128x256x256", "128x512x512", "128x1024x1024")]
    public string Shape { get; set; } = "128x128x128";

    protected override (string Shape, string Ops) Case => (Shape, "NN");
}

/// <summary>The layer shapes with transposed operands (op(A) then op(B)), which the packing routines handle.</summary>
[MemoryDiagnoser]
[Config(typeof(GemmConfig))]
public class GemmTransposedBenchmarks : GemmBenchmarkBase
{
    [Params("128x256x256", "128x512x512", "128x1024x1024")]
    public string Shape { get; set; } = "128x256x256";

    [Params("TN", "NT", "TT")]
    public string Ops { get; set; } = "NT";

    protected override (string Shape, string Ops) Case => (Shape, Ops);
}

/// <summary>Operands, the two competitors and the shape parsing shared by the GEMM benchmark classes.</summary>
public abstract unsafe class GemmBenchmarkBase
{
    private NativeCpuDevice _device = null!;
    private Tensor<float> _a = null!, _b = null!, _c = null!;
    private int _m, _n, _k;
    private bool _transA, _transB;

    protected abstract (string Shape, string Ops) Case { get; }

    [GlobalSetup]
    public void Setup()
    {
        (_m, _n, _k) = GemmConfig.ParseShape(Case.Shape);
        (_transA, _transB) = (Case.Ops[0] == 'T', Case.Ops[1] == 'T');
        _device = new NativeCpuDevice();
        var random = new Random(1);
        float[] Random(int length) => Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        _a = _transA ? _device.FromArray<float>(Random(_m * _k), _k, _m) : _device.FromArray<float>(Random(_m * _k), _m, _k);
        _b = _transB ? _device.FromArray<float>(Random(_k * _n), _n, _k) : _device.FromArray<float>(Random(_k * _n), _k, _n);
        _c = _device.Allocate<float>(_m, _n);
        if (!OpenBlas.TryLoad(out var why)) Console.WriteLine($"// OpenBLAS absent, its benchmark will fail: {why}");
        else Console.WriteLine($"// OpenBLAS {OpenBlas.LibraryPath}, core {OpenBlas.CoreName}, {OpenBlas.Threads} threads");
    }

    [GlobalCleanup]
    public void Cleanup() => _device.Dispose();

    [Benchmark(Baseline = true, Description = "OpenBLAS")]
    public void OpenBlasSgemm() =>
        OpenBlas.Sgemm(_transA, _transB, _m, _n, _k, 1f, Pointer(_a), (int)_a.RowStride, Pointer(_b), (int)_b.RowStride, 0f, Pointer(_c), _n);

    [Benchmark(Description = "Native")]
    public void NativeSgemm() =>
        _device.Gemm(_transA ? MatrixOp.Transpose : MatrixOp.None, _transB ? MatrixOp.Transpose : MatrixOp.None, 1f, _a, _b, 0f, _c);

    private static float* Pointer(Tensor<float> t) => ((NativeStorage<float>)t.Storage).Pointer + t.Offset;
}

/// <summary>Adds the GFLOP/s column (2·m·n·k over the mean time).</summary>
public sealed class GemmConfig : ManualConfig
{
    public GemmConfig() => AddColumn(new GflopsColumn());

    public static (int M, int N, int K) ParseShape(string shape)
    {
        var p = shape.Split('x').Select(int.Parse).ToArray();
        return (p[0], p[1], p[2]);
    }

    private sealed class GflopsColumn : IColumn
    {
        public string Id => nameof(GflopsColumn);
        public string ColumnName => "GFLOP/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "Billions of floating-point operations per second: 2·m·n·k / mean time";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var stats = summary[benchmarkCase]?.ResultStatistics;
            if (stats is null || benchmarkCase.Parameters["Shape"] is not string shape) return "NA";
            var (m, n, k) = ParseShape(shape);
            return (2.0 * m * n * k / stats.Mean).ToString("F1"); // flops per ns = GFLOP/s
        }

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public bool IsAvailable(Summary summary) => true;
    }
}
