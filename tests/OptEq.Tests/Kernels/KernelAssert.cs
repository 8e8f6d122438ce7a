using System.Numerics;
using NUnit.Framework;
using OptEq.Kernels;

namespace OptEq.Tests.Kernels;

public enum Precision { Float32, Float64 }

/// <summary>Test inputs and comparisons shared by the kernel fixtures.</summary>
internal static class KernelAssert
{
    /// <summary>
    /// Uniform values in [lo, hi), rounded to float32 so that float32 and float64 kernels see exactly the inputs the
    /// float64 reference sees: a difference then comes from the kernel's arithmetic alone.
    /// </summary>
    public static double[] Random(int count, int seed, double lo = -1, double hi = 1)
    {
        var rng = new Random(seed);
        var x = new double[count];
        for (int i = 0; i < count; i++) x[i] = (float)(lo + (hi - lo) * rng.NextDouble());
        return x;
    }

    public static T[] To<T>(double[] x) where T : unmanaged, IFloatingPointIeee754<T>
        => x.Select(T.CreateChecked).ToArray();

    /// <summary>Unit roundoff of T: 2⁻²⁴ for float32, 2⁻⁵³ for float64.</summary>
    public static double Unit<T>() => Math.ScaleB(1, typeof(T) == typeof(float) ? -24 : -53);

    /// <summary>
    /// |actual[i] − expected[i]| ≤ tolerance·scale[i] for every i, where scale[i] bounds the magnitudes that went into
    /// element i; NaN and infinities must match exactly. Reports the first element that does not.
    /// </summary>
    public static void Close<T>(double[] expected, T[] actual, double tolerance, Func<int, double> scale, string what)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = double.CreateChecked(actual[i]);
            if (double.IsNaN(e) || double.IsInfinity(e))
            {
                if (!e.Equals(a)) Assert.Fail($"{what}: element {i} is {a}, expected {e}");
                continue;
            }
            double bound = tolerance * scale(i);
            if (!(Math.Abs(a - e) <= bound))
                Assert.Fail($"{what}: element {i} is {a:R}, expected {e:R} (difference {Math.Abs(a - e):E3} > bound {bound:E3})");
        }
    }

    /// <summary>Every element equals expected rounded to T (for kernels that only move data, or round once).</summary>
    public static void Exact<T>(double[] expected, T[] actual, string what) where T : unmanaged, IFloatingPointIeee754<T>
        => Close(expected.Select(e => double.CreateChecked(T.CreateChecked(e))).ToArray(), actual, 0, _ => 0, what);

    /// <summary>
    /// A row-major tensor of shape [..., cols] seen through a view of a wider one, [..., cols + pad], starting at column 1
    /// when padded (so the view's offset is not 0 either). The padding holds a sentinel that no kernel may overwrite.
    /// </summary>
    public sealed class Strided<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
    {
        public const double Sentinel = 777;

        public Strided(Device device, double[] values, int pad, params int[] shape)
        {
            var wide = (int[])shape.Clone();
            wide[^1] += pad;
            Backing = device.Allocate<T>(wide);
            Backing.CopyFrom(Enumerable.Repeat(T.CreateChecked(Sentinel), (int)Backing.Length).ToArray());
            View = pad > 0 ? Backing.SliceColumns(1, shape[^1]) : Backing;
            View.CopyFrom(To<T>(values));
        }

        public Tensor<T> Backing { get; }
        public Tensor<T> View { get; }

        public T[] Values => View.ToArray();

        /// <summary>The elements of the backing tensor outside the view.</summary>
        public T[] Padding()
        {
            int width = Backing.Shape[^1], cols = View.Shape[^1];
            var all = Backing.ToArray();
            return Enumerable.Range(0, all.Length).Where(i => width != cols && (i % width == 0 || i % width > cols)).Select(i => all[i]).ToArray();
        }

        public void AssertPaddingUntouched(string what)
            => Assert.That(Padding(), Is.All.EqualTo(T.CreateChecked(Sentinel)), $"{what}: a kernel wrote outside the view");

        public void Dispose() => Backing.Dispose();
    }
}
