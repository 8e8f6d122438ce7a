using System.Numerics;
using System.Runtime.InteropServices;
using NUnit.Framework;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Native;

namespace OptEq.Tests.Kernels;

/// <summary>
/// The native backend's loop drivers (<see cref="VectorDriver"/>) at every vector width this CPU accelerates, and scalar:
/// every length from 0 to 256, so each tail (every narrower width, then the scalar remainder) is met, in float32 and
/// float64. Elementwise maps must equal the operation's scalar method bit for bit (they do the same IEEE operations) and
/// write nothing past the row; reductions are held to a float64 sum within the worst-case rounding bound n·u·Σ|term|
/// (only their summation order depends on the width); max |x| is exact and propagates NaN.
/// </summary>
[TestFixtureSource(nameof(Widths)), NonParallelizable]
public sealed unsafe class VectorDriverTests(int widthBits)
{
    public static IEnumerable<int> Widths => SimdWidth.Supported.Select(w => (int)w);

    private const int MaxLength = 256;
    private const int Guard = 16;

    [OneTimeSetUp]
    public void SetWidth() => SimdWidth.Override = (VectorWidth)widthBits;

    [OneTimeTearDown]
    public void RestoreWidth() => SimdWidth.Override = null;

    [Test]
    public void TheWidthIsInForce() => Assert.That((int)SimdWidth.Current, Is.EqualTo(widthBits));

    [Test] public void AddMatchesScalarFloat32() => CheckBinary<float, AddOp<float>>(new AddOp<float>());
    [Test] public void AddMatchesScalarFloat64() => CheckBinary<double, AddOp<double>>(new AddOp<double>());
    [Test] public void SubtractMatchesScalarFloat32() => CheckBinary<float, SubtractOp<float>>(new SubtractOp<float>());
    [Test] public void SubtractMatchesScalarFloat64() => CheckBinary<double, SubtractOp<double>>(new SubtractOp<double>());
    [Test] public void AxpbyMatchesScalarFloat32() => CheckBinary<float, AxpbyOp<float>>(new AxpbyOp<float>(0.75f, -1.25f));
    [Test] public void AxpbyMatchesScalarFloat64() => CheckBinary<double, AxpbyOp<double>>(new AxpbyOp<double>(0.75, -1.25));
    [Test] public void AxpyMatchesScalarFloat32() => CheckBinary<float, AxpyOp<float>>(new AxpyOp<float>(-0.3f));
    [Test] public void AxpyMatchesScalarFloat64() => CheckBinary<double, AxpyOp<double>>(new AxpyOp<double>(-0.3));
    [Test] public void ScaleMatchesScalarFloat32() => CheckUnary<float, ScaleOp<float>>(new ScaleOp<float>(1.7f));
    [Test] public void ScaleMatchesScalarFloat64() => CheckUnary<double, ScaleOp<double>>(new ScaleOp<double>(1.7));
    [Test] public void AddAxpbyMatchesScalarFloat32() => CheckTernary<float, AddAxpbyOp<float>>(new AddAxpbyOp<float>(0.5f, 2.5f));
    [Test] public void AddAxpbyMatchesScalarFloat64() => CheckTernary<double, AddAxpbyOp<double>>(new AddAxpbyOp<double>(0.5, 2.5));

    [Test] public void ReluRowsMatchTheScalarActivationFloat32() => CheckActivation<float, ReLU<float>>();
    [Test] public void ReluRowsMatchTheScalarActivationFloat64() => CheckActivation<double, ReLU<double>>();
    [Test] public void IdentityRowsMatchTheScalarActivationFloat32() => CheckActivation<float, Identity<float>>();
    [Test] public void IdentityRowsMatchTheScalarActivationFloat64() => CheckActivation<double, Identity<double>>();

    [Test]
    public void SumsMatchFloat64Float32()
    {
        CheckSum<float, DotOp<float>>((x, y) => x * y);
        CheckSum<float, SquaredNormOp<float>>((x, _) => x * x);
        CheckSum<float, SquaredDistanceOp<float>>((x, y) => (x - y) * (x - y));
        CheckSum<float, SumOp<float>>((x, _) => x);
    }

    [Test]
    public void SumsMatchFloat64Float64()
    {
        CheckSum<double, DotOp<double>>((x, y) => x * y);
        CheckSum<double, SquaredNormOp<double>>((x, _) => x * x);
        CheckSum<double, SquaredDistanceOp<double>>((x, y) => (x - y) * (x - y));
        CheckSum<double, SumOp<double>>((x, _) => x);
    }

    [Test] public void MaxAbsIsExactAndPropagatesNaNFloat32() => CheckMaxAbs<float>();
    [Test] public void MaxAbsIsExactAndPropagatesNaNFloat64() => CheckMaxAbs<double>();

    // ---- checks --------------------------------------------------------------------------------------

    private static void CheckUnary<T, TOp>(TOp op) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IUnaryOp<T>
    {
        var random = new Random(1);
        for (int n = 0; n <= MaxLength; n++)
        {
            T[] x = RandomArray<T>(random, n), result = Guarded<T>(n), expected = Guarded<T>(n);
            for (int j = 0; j < n; j++) expected[j] = op.Invoke(x[j]);
            fixed (T* px = x, pr = result) VectorDriver.Map(op, px, pr, n);
            AssertBitwise(result, expected, n, "out of place");
            fixed (T* px = x) VectorDriver.Map(op, px, px, n); // in place
            AssertBitwise(x, expected, n, "in place", guarded: false);
        }
    }

    private static void CheckBinary<T, TOp>(TOp op) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IBinaryOp<T>
    {
        var random = new Random(2);
        for (int n = 0; n <= MaxLength; n++)
        {
            T[] x = RandomArray<T>(random, n), y = RandomArray<T>(random, n), result = Guarded<T>(n), expected = Guarded<T>(n);
            for (int j = 0; j < n; j++) expected[j] = op.Invoke(x[j], y[j]);
            fixed (T* px = x, py = y, pr = result) VectorDriver.Map(op, px, py, pr, n);
            AssertBitwise(result, expected, n, "out of place");
            fixed (T* px = x, py = y) VectorDriver.Map(op, px, py, py, n); // result over the second input
            AssertBitwise(y, expected, n, "in place", guarded: false);
        }
    }

    private static void CheckTernary<T, TOp>(TOp op) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, ITernaryOp<T>
    {
        var random = new Random(3);
        for (int n = 0; n <= MaxLength; n++)
        {
            T[] x = RandomArray<T>(random, n), y = RandomArray<T>(random, n), z = RandomArray<T>(random, n);
            T[] result = Guarded<T>(n), expected = Guarded<T>(n);
            for (int j = 0; j < n; j++) expected[j] = op.Invoke(x[j], y[j], z[j]);
            fixed (T* px = x, py = y, pz = z, pr = result) VectorDriver.Map(op, px, py, pz, pr, n);
            AssertBitwise(result, expected, n, "out of place");
            fixed (T* px = x, py = y, pz = z) VectorDriver.Map(op, px, py, pz, px, n);
            AssertBitwise(x, expected, n, "in place", guarded: false);
        }
    }

    private static void CheckActivation<T, TAct>() where T : unmanaged, IFloatingPointIeee754<T> where TAct : struct, IProxActivation<T>
    {
        var random = new Random(4);
        T[] specials = [T.NaN, T.Zero, -T.Zero, T.PositiveInfinity, T.NegativeInfinity, T.Epsilon, -T.Epsilon];
        var activation = default(TAct);
        for (int n = 0; n <= MaxLength; n++)
        {
            var v = RandomArray<T>(random, n);
            for (int j = 0; j < n; j += 3) v[j] = specials[random.Next(specials.Length)];
            T[] value = Guarded<T>(n), derivative = Guarded<T>(n), expectedValue = Guarded<T>(n), expectedDerivative = Guarded<T>(n);
            for (int j = 0; j < n; j++) { expectedValue[j] = activation.Value(v[j]); expectedDerivative[j] = activation.Derivative(v[j]); }
            fixed (T* pv = v, pval = value, pd = derivative) ActivationRows.Apply(activation, pv, pval, pd, n);
            AssertBitwise(value, expectedValue, n, "σ");
            AssertBitwise(derivative, expectedDerivative, n, "σ′");
            fixed (T* pv = v) ActivationRows.Apply(activation, pv, pv, null, n); // in place, no σ′
            AssertBitwise(v, expectedValue, n, "σ in place", guarded: false);
        }
    }

    private static void CheckSum<T, TOp>(Func<double, double, double> term) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IReduceOp<T>
    {
        var random = new Random(5);
        double u = typeof(T) == typeof(float) ? Math.Pow(2, -24) : Math.Pow(2, -53);
        for (int n = 0; n <= MaxLength; n++)
        {
            T[] x = RandomArray<T>(random, n), y = RandomArray<T>(random, n);
            double exact = 0, magnitude = 0;
            for (int j = 0; j < n; j++)
            {
                double t = term(double.CreateTruncating(x[j]), double.CreateTruncating(y[j]));
                exact += t;
                magnitude += Math.Abs(t);
            }
            T actual;
            fixed (T* px = x, py = y) actual = VectorDriver.Reduce(new TOp(), px, py, n);
            // n·u·Σ|t| bounds any order of summation (the products themselves round within u·|t|).
            Assert.That(double.CreateTruncating(actual), Is.EqualTo(exact).Within((n + 1) * u * magnitude + 1e-300), $"{typeof(TOp).Name} at length {n}");
        }
    }

    private static void CheckMaxAbs<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(6);
        for (int n = 0; n <= MaxLength; n++)
        {
            var x = RandomArray<T>(random, n);
            T expected = T.Zero;
            foreach (var v in x) expected = T.Max(expected, T.Abs(v));
            fixed (T* px = x) Assert.That(VectorDriver.Reduce(new MaxAbsOp<T>(), px, px, n), Is.EqualTo(expected), $"length {n}");
            if (n == 0) continue;
            x[random.Next(n)] = T.NaN;
            fixed (T* px = x) Assert.That(T.IsNaN(VectorDriver.Reduce(new MaxAbsOp<T>(), px, px, n)), $"NaN lost at length {n}");
        }
    }

    // ---- helpers -------------------------------------------------------------------------------------

    private static T[] RandomArray<T>(Random random, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = new T[n];
        for (int j = 0; j < n; j++) x[j] = T.CreateTruncating((float)(random.NextDouble() * 4 - 2)); // float32-representable
        return x;
    }

    /// <summary>n elements followed by <see cref="Guard"/> sentinels that no driver may overwrite.</summary>
    private static T[] Guarded<T>(int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = new T[n + Guard];
        x.AsSpan(n).Fill(T.CreateTruncating(12345));
        return x;
    }

    private static void AssertBitwise<T>(T[] actual, T[] expected, int n, string what, bool guarded = true) where T : unmanaged
    {
        int length = guarded ? n + Guard : n;
        var a = MemoryMarshal.AsBytes(actual.AsSpan(0, length));
        var e = MemoryMarshal.AsBytes(expected.AsSpan(0, length));
        if (a.SequenceEqual(e)) return;
        for (int j = 0; j < length; j++)
            if (!MemoryMarshal.AsBytes(actual.AsSpan(j, 1)).SequenceEqual(MemoryMarshal.AsBytes(expected.AsSpan(j, 1))))
                Assert.Fail($"{what}, length {n}: element {j}{(j >= n ? " (past the row)" : "")} is {actual[j]}, expected {expected[j]}");
    }
}
