using OptEq.Kernels;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Reference;
using OptEq.Solvers.Maps;

namespace OptEq.Tests.Solvers;

/// <summary>Test problems with known structure, built in float64 on the host and uploaded.</summary>
internal static class Problems
{
    public static double[] Gaussian(Random rng, int n, double scale = 1)
    {
        var a = new double[n];
        for (int i = 0; i < n; i++)
            a[i] = scale * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        return a;
    }

    /// <summary>A random [rows, cols] matrix scaled to spectral norm exactly <paramref name="norm"/> (power iteration on WᵀW).</summary>
    public static double[] WithSpectralNorm(Random rng, int rows, int cols, double norm)
    {
        var w = Gaussian(rng, rows * cols);
        double current = Math.Sqrt(SpectralNormOfGram(w, rows, cols));
        for (int i = 0; i < w.Length; i++) w[i] *= norm / current;
        return w;
    }

    /// <summary>||WᵀW||₂ by 500 power iterations in float64.</summary>
    public static double SpectralNormOfGram(double[] w, int rows, int cols)
    {
        var m = new double[cols * cols];
        ReferenceKernels.Gemm(true, false, cols, cols, rows, 1, w, w, 0, m);
        var v = Enumerable.Repeat(1.0, cols).ToArray();
        double lambda = 0;
        for (int it = 0; it < 500; it++)
        {
            var next = new double[cols];
            ReferenceKernels.Gemm(false, false, cols, 1, cols, 1, m, v, 0, next);
            double norm = Math.Sqrt(next.Sum(x => x * x));
            lambda = norm / Math.Sqrt(v.Sum(x => x * x));
            v = next.Select(x => x / norm).ToArray();
        }
        return lambda;
    }

    public static T[] Cast<T>(double[] a) where T : System.Numerics.IFloatingPointIeee754<T> => a.Select(T.CreateChecked).ToArray();

    /// <summary>An OptEq problem: W with ||W||₂² = rho, M = WᵀW, c = random injection.</summary>
    public sealed class OptEqProblem<T> : IDisposable where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        public OptEqProblem(Device device, Activation activation, int batch, int d, double rho, int seed, double injectionScale = 1)
        {
            var rng = new Random(seed);
            var w = WithSpectralNorm(rng, d, d, Math.Sqrt(rho));
            MetricHost = new double[d * d];
            ReferenceKernels.Gemm(true, false, d, d, d, 1, w, w, 0, MetricHost);
            InjectionHost = Gaussian(rng, batch * d, injectionScale);
            Metric = device.FromArray(Cast<T>(MetricHost), d, d);
            Injection = device.FromArray(Cast<T>(InjectionHost), batch, d);
            Map = new OptEqMap<T>(activation, Metric, Injection, rho);
            Z0 = device.Allocate<T>(batch, d);
        }

        public double[] MetricHost { get; }
        public double[] InjectionHost { get; }
        public Tensor<T> Metric { get; }
        public Tensor<T> Injection { get; }
        public OptEqMap<T> Map { get; }
        public Tensor<T> Z0 { get; }

        public void Dispose()
        {
            Map.Dispose();
            Metric.Dispose(); Injection.Dispose(); Z0.Dispose();
        }
    }
}
