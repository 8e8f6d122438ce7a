using BenchmarkDotNet.Attributes;
using OptEq.Kernels.Activations;

namespace OptEq.Bench;

/// <summary>
/// The scalar tanh of the prox family (<see cref="Tanh{T}"/>: exp, and a continued fraction below ½) against the BCL's
/// MathF.Tanh it replaced, over 65,536 float32 values uniform on [−3, 3] (a sixth of them below ½).
/// <code>dotnet run -c Release --project bench/OptEq.Bench -- --filter '*ActivationBenchmarks*' --job short</code>
/// </summary>
[MemoryDiagnoser]
public class ActivationBenchmarks
{
    private float[] _x = [], _y = [];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _x = [.. Enumerable.Range(0, 1 << 16).Select(_ => (float)(6 * rng.NextDouble() - 3))];
        _y = new float[_x.Length];
    }

    [Benchmark(Baseline = true)]
    public void MathFTanh()
    {
        for (int i = 0; i < _x.Length; i++) _y[i] = MathF.Tanh(_x[i]);
    }

    [Benchmark]
    public void ProxTanh()
    {
        var tanh = default(Tanh<float>);
        for (int i = 0; i < _x.Length; i++) _y[i] = tanh.Value(_x[i]);
    }
}
