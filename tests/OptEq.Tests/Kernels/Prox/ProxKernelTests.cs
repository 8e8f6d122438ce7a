using System.Numerics;
using NUnit.Framework;
using OptEq.Kernels;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Reference;
using static OptEq.Tests.Kernels.KernelAssert;

namespace OptEq.Tests.Kernels;

[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public sealed class ProxKernelTests(string backend) : KernelTestsBase(backend)
{
    /// <summary>The seven activations, leaky and soft-threshold with the parameters the tests use.</summary>
    public static readonly Activation[] AllActivations =
        [Activation.ReLU, Activation.LeakyReLU(0.1), Activation.Tanh, Activation.Sigmoid, Activation.Softplus, Activation.SoftThreshold(0.3), Activation.HardTanh];

    // Tolerance: |out − ref| ≤ 64·u·(1 + |ref|). The kernel evaluates the same struct methods as the float64 reference,
    // in T; each output goes through a handful of roundings and library functions (exp, log, tanh, up to 56 terms of
    // the dilogarithm), so errors of a few dozen u, absolute near 0 and relative elsewhere, are the expected size.

    [Test]
    public void ProxOutputsMatchTheActivationStructs([ValueSource(nameof(AllActivations))] Activation activation, [Values] Precision precision)
        => Run(precision, () => CheckProx<float>(activation, inPlace: false), () => CheckProx<double>(activation, inPlace: false));

    [Test]
    public void ProxValueMayOverwriteV([ValueSource(nameof(AllActivations))] Activation activation)
    {
        CheckProx<float>(activation, inPlace: true);
        CheckProx<double>(activation, inPlace: true);
    }

    [Test]
    public void ProxWithoutOptionalOutputs([Values] Precision precision)
        => Run(precision, () => CheckProxValueOnly<float>(), () => CheckProxValueOnly<double>());

    /// <summary>
    /// v on 9 rows of 41: row r is −4, −3.8, …, 4 shifted by 0.05·(r − 4), so the grid spans [−4.2, 4.2] and holds the
    /// kinks 0, ±0.3 and ±1 exactly (as float32 values).
    /// </summary>
    private static double[] ProxGrid()
        => Enumerable.Range(0, 9 * 41).Select(i => (double)(float)(-4 + 0.2 * (i % 41) + 0.05 * (i / 41 - 4))).ToArray();

    private void CheckProx<T>(Activation activation, bool inPlace) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var v = ProxGrid();
        using var V = new Strided<T>(Device, v, 3, 9, 41);
        using var value = new Strided<T>(Device, new double[v.Length], 1, 9, 41);
        using var derivative = new Strided<T>(Device, new double[v.Length], 2, 9, 41);
        using var penalty = new Strided<T>(Device, new double[v.Length], 0, 9, 41);
        var z = inPlace ? V : value;
        Device.Prox(activation, V.View, z.View, derivative.View, penalty.View);

        var (ez, ed, ef) = ReferenceProx<T>(activation, v);
        string what = $"prox<{typeof(T).Name}> {activation}{(inPlace ? " in place" : "")}";
        double tol = 64 * Unit<T>();
        Close(ez, z.Values, tol, i => 1 + Math.Abs(ez[i]), what + " value");
        Close(ed, derivative.Values, tol, i => 1 + Math.Abs(ed[i]), what + " derivative");
        Close(ef, penalty.Values, tol, i => 1 + Math.Abs(ef[i]), what + " penalty");
        z.AssertPaddingUntouched(what);
        derivative.AssertPaddingUntouched(what);
    }

    private void CheckProxValueOnly<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        var v = ProxGrid();
        var activation = Activation.Softplus;
        using var V = new Strided<T>(Device, v, 0, 9, 41);
        using var value = new Strided<T>(Device, new double[v.Length], 2, 9, 41);
        using var derivative = new Strided<T>(Device, new double[v.Length], 0, 9, 41);
        var (ez, ed, _) = ReferenceProx<T>(activation, v);
        double tol = 64 * Unit<T>();

        Device.Prox(activation, V.View, value.View);
        Close(ez, value.Values, tol, i => 1 + Math.Abs(ez[i]), "prox value only");
        value.AssertPaddingUntouched("prox value only");

        Device.Prox(activation, V.View, value.View, derivative: derivative.View);
        Close(ed, derivative.Values, tol, i => 1 + Math.Abs(ed[i]), "prox without penalty: derivative");
        Assert.That(V.Values, Is.EqualTo(To<T>(v)), "prox wrote into v");
    }

    /// <summary>
    /// σ(v), σ′(v), f(σ(v)) from the activation's float64 struct, with its parameter rounded to T as the kernel's struct
    /// has it: v = 0.3f must sit exactly on the soft-threshold kink λ = 0.3f in both, not on either side of it.
    /// </summary>
    internal static (double[] Value, double[] Derivative, double[] Penalty) ReferenceProx<T>(Activation activation, double[] v)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double p = double.CreateChecked(T.CreateChecked(activation.Parameter));
        var rounded = activation.Kind switch
        {
            ActivationKind.LeakyReLU => Activation.LeakyReLU(p),
            ActivationKind.SoftThreshold => Activation.SoftThreshold(p),
            _ => activation,
        };
        var consumer = new ReferenceProxConsumer(v);
        rounded.Accept<double, ReferenceProxConsumer>(ref consumer);
        return consumer.Result;
    }

    private struct ReferenceProxConsumer(double[] v) : IActivationConsumer<double>
    {
        public (double[], double[], double[]) Result;
        public void Consume<TAct>(TAct activation) where TAct : struct, IProxActivation<double> => Result = ReferenceKernels.Prox(activation, v);
    }
}
