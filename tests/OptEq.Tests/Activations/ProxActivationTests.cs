using NUnit.Framework;
using OptEq.Kernels.Activations;

namespace OptEq.Tests.Activations;

/// <summary>
/// The mathematics of the activation structs, in float64 and without a device: σ = prox_f, f′ = σ⁻¹ − id, and σ′.
/// (That every backend's prox kernel returns what these structs return is checked by the kernel fixtures.)
/// </summary>
public class ProxActivationTests
{
    /// <summary>One activation: its descriptor, σ⁻¹ on the interior of σ's range, interior points y, and the kinks of σ.</summary>
    public sealed record Case(Activation Activation, Func<double, double> Inverse, double[] InteriorY, double[] Kinks)
    {
        public override string ToString() => Activation.ToString();
    }

    private static double[] Grid(double from, double to, double step, params double[] avoid)
        => Enumerable.Range(0, (int)Math.Round((to - from) / step) + 1).Select(i => from + i * step)
            .Where(y => avoid.All(k => Math.Abs(y - k) > 1e-3)).ToArray();

    public static readonly Case[] Cases =
    [
        new(Activation.ReLU, y => y, Grid(0.05, 4, 0.05), [0]),
        new(Activation.LeakyReLU(0.1), y => y < 0 ? y / 0.1 : y, Grid(-0.4, 4, 0.05, 0), [0]),
        new(Activation.Tanh, Math.Atanh, Grid(-0.95, 0.95, 0.05), []),
        new(Activation.Sigmoid, y => Math.Log(y / (1 - y)), Grid(0.05, 0.95, 0.05), []),
        new(Activation.Softplus, y => Math.Log(Math.Exp(y) - 1), Grid(0.05, 4, 0.05), []),
        new(Activation.SoftThreshold(0.3), y => y + 0.3 * Math.Sign(y), Grid(-3.7, 3.7, 0.05, 0), [-0.3, 0.3]),
        new(Activation.HardTanh, y => y, Grid(-0.95, 0.95, 0.05), [-1, 1]),
    ];

    /// <summary>v on [−4, 4] in steps of 0.05 (the kinks 0, ±0.3, ±1 among them).</summary>
    private static readonly double[] V = Grid(-4, 4, 0.05);

    [Test]
    public void ValueMinimisesPenaltyPlusDistance([ValueSource(nameof(Cases))] Case c)
    {
        // σ(v) = argmin_y f(y) + ½(y − v)²: no step of δ either way does better (beyond rounding, 1e-12).
        var s = Scalar.Of(c.Activation);
        foreach (double v in V)
        {
            double y = s.Value(v);
            double Objective(double t) => s.Penalty(t) + 0.5 * (t - v) * (t - v);
            double at = Objective(y);
            Assert.That(double.IsFinite(at), $"{c}: f(σ({v})) = f({y}) is not finite: σ(v) left the domain of f");
            foreach (double delta in new[] { 1e-3, 1e-2, 0.1 })
                foreach (double t in new[] { y - delta, y + delta })
                    Assert.That(at, Is.LessThanOrEqualTo(Objective(t) + 1e-12), $"{c}: at v = {v}, y' = {t} beats σ(v) = {y}");
        }
    }

    [Test]
    public void PenaltyDerivativeIsInverseMinusIdentity([ValueSource(nameof(Cases))] Case c)
    {
        // f′(y) = σ⁻¹(y) − y at interior points of σ's range, by a central difference of f with h = 1e-5: truncation
        // h²·f‴/6 and rounding ε·|f|/h are both below 1e-9, so 1e-6·(1 + |f′|) is a clear margin.
        var s = Scalar.Of(c.Activation);
        const double h = 1e-5;
        foreach (double y in c.InteriorY)
        {
            double numeric = (s.Penalty(y + h) - s.Penalty(y - h)) / (2 * h);
            double expected = c.Inverse(y) - y;
            Assert.That(numeric, Is.EqualTo(expected).Within(1e-6 * (1 + Math.Abs(expected))), $"{c}: f′({y})");
        }
    }

    [Test]
    public void DerivativeMatchesFiniteDifference([ValueSource(nameof(Cases))] Case c)
    {
        // σ′(v) against (σ(v + h) − σ(v − h)) / 2h with h = 1e-6, away from kinks (error below 1e-9; margin 1e-7).
        var s = Scalar.Of(c.Activation);
        const double h = 1e-6;
        foreach (double v in V.Where(v => c.Kinks.All(k => Math.Abs(v - k) > 1e-3)))
        {
            double numeric = (s.Value(v + h) - s.Value(v - h)) / (2 * h);
            Assert.That(s.Derivative(v), Is.EqualTo(numeric).Within(1e-7), $"{c}: σ′({v})");
        }
    }

    [Test]
    public void DerivativeAtKinksIsAOneSidedSlope([ValueSource(nameof(Cases))] Case c)
    {
        // At a kink σ′ is only promised to be in the Clarke Jacobian: between the one-sided slopes.
        var s = Scalar.Of(c.Activation);
        const double h = 1e-6;
        foreach (double k in c.Kinks)
        {
            double left = (s.Value(k) - s.Value(k - h)) / h, right = (s.Value(k + h) - s.Value(k)) / h;
            Assert.That(s.Derivative(k), Is.InRange(Math.Min(left, right) - 1e-7, Math.Max(left, right) + 1e-7), $"{c}: σ′ at the kink {k}");
        }
    }

    /// <summary>The struct behind an activation descriptor, as float64 functions.</summary>
    private sealed record Scalar(Func<double, double> Value, Func<double, double> Derivative, Func<double, double> Penalty)
    {
        public static Scalar Of(Activation activation)
        {
            var consumer = new Consumer();
            activation.Accept<double, Consumer>(ref consumer);
            return consumer.Result!;
        }

        private struct Consumer : IActivationConsumer<double>
        {
            public Scalar? Result;
            public void Consume<TAct>(TAct a) where TAct : struct, IProxActivation<double> => Result = new(a.Value, a.Derivative, a.Penalty);
        }
    }
}

public class ActivationNaNTests
{
    /// <summary>Every activation maps NaN to NaN: a NaN swallowed by σ would hide a broken model from its loss.</summary>
    [Test]
    public void EveryActivationPropagatesNaN()
    {
        using var device = new OptEq.Kernels.Native.NativeCpuDevice();
        foreach (var activation in new[] { OptEq.Kernels.Activations.Activation.ReLU, OptEq.Kernels.Activations.Activation.LeakyReLU(0.1), OptEq.Kernels.Activations.Activation.Tanh,
            OptEq.Kernels.Activations.Activation.Sigmoid, OptEq.Kernels.Activations.Activation.Softplus, OptEq.Kernels.Activations.Activation.SoftThreshold(0.2),
            OptEq.Kernels.Activations.Activation.HardTanh, OptEq.Kernels.Activations.Activation.Identity, OptEq.Kernels.Activations.Activation.ReLU.Clip(0, 1) })
        {
            using var v = device.FromArray(new[] { double.NaN, 1.0 }, 1, 2);
            using var z = device.Allocate<double>(1, 2);
            device.Prox(activation, v, z);
            Assert.That(double.IsNaN(z.ToArray()[0]), Is.True, activation.ToString());
        }
    }
}

public class TanhAccuracyTests
{
    /// <summary>
    /// Tanh is computed from exp and a continued fraction (not T.Tanh, which ILGPU lowers to an approximate PTX
    /// instruction): within 4 units in the last place of the correctly rounded float64 tanh in both precisions, from 1e-8
    /// to 20 and at the switch point ½, signs and the special values kept.
    /// </summary>
    [Test]
    public void TanhIsWithinFourUnitsInTheLastPlaceInBothPrecisions()
    {
        var points = Enumerable.Range(0, 4001).Select(i => -20 + 0.01 * i)
            .Concat(Enumerable.Range(0, 321).Select(i => Math.Pow(10, -8 + 0.025 * i)))
            .Concat([0.5, Math.BitDecrement(0.5), (double)MathF.BitDecrement(0.5f), 0.5 + 1e-9]);
        var tanhFloat = default(Tanh<float>);
        var tanhDouble = default(Tanh<double>);
        foreach (double v in points)
        {
            float vf = (float)v;
            float expectedF = (float)Math.Tanh(vf);
            Assert.That(Math.Abs(tanhFloat.Value(vf) - expectedF), Is.LessThanOrEqualTo(4 * Ulp(expectedF)), $"float32 tanh({vf:R})");
            double expected = Math.Tanh(v);
            Assert.That(Math.Abs(tanhDouble.Value(v) - expected), Is.LessThanOrEqualTo(4 * Ulp(expected)), $"float64 tanh({v:R})");
        }
        Assert.That(double.IsNegative(tanhDouble.Value(-0.0)) && tanhDouble.Value(-0.0) == 0, "tanh(−0) = −0");
        Assert.That(tanhDouble.Value(double.PositiveInfinity), Is.EqualTo(1.0));
        Assert.That(tanhFloat.Value(float.NegativeInfinity), Is.EqualTo(-1f));
        Assert.That(float.IsNaN(tanhFloat.Value(float.NaN)));
    }

    private static double Ulp(float x) => MathF.BitIncrement(MathF.Abs(x)) - MathF.Abs(x);

    private static double Ulp(double x) => Math.BitIncrement(Math.Abs(x)) - Math.Abs(x);
}
