using System.Numerics;
using NUnit.Framework;
using OptEq.Kernels;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Reference;
using static OptEq.Tests.Kernels.KernelAssert;

namespace OptEq.Tests.Kernels;

public enum Addend { None, Bias, Matrix }

[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public sealed class GemmProxKernelTests(string backend) : KernelTestsBase(backend)
{
    public static readonly Activation[] GemmProxActivations = [Activation.ReLU, Activation.Identity, Activation.Tanh, Activation.Softplus, Activation.LeakyReLU(0.1)];

    // value = σ(pre) with σ 1-Lipschitz, so its error is the GEMM's: GemmTolerance × the magnitude sum of pre. σ′ is
    // compared the same way for the smooth activations (|σ″| ≤ 1 for tanh and softplus); for the piecewise-linear ones
    // it is exact except within that error of a kink, where either side is right, so those few elements are skipped.
    //
    // Shapes: 1×1×1; 15 rows (one full 14-row micro-tile and a 1-row one); 33 and 47 columns (a 32-column tile plus a
    // narrow one); k = 300 (two depth blocks: the epilogue must wait for the last); 29×70×300 (split across threads).

    [Test]
    public void GemmProxMatchesReference(
        [ValueSource(nameof(GemmProxActivations))] Activation activation, [Values] Precision precision, [Values] Addend addend,
        [Values("1x1x1", "15x33x300", "29x70x300")] string mnk)
    {
        var s = mnk.Split('x').Select(int.Parse).ToArray();
        Run(precision,
            () => CheckGemmProx<float>(activation, s[0], s[1], s[2], false, true, addend, withDerivative: true, pad: 0),
            () => CheckGemmProx<double>(activation, s[0], s[1], s[2], false, true, addend, withDerivative: true, pad: 0));
    }

    [Test]
    public void GemmProxTransposesAndStridedViews([Values] bool transA, [Values] bool transB, [Values] bool withDerivative)
    {
        CheckGemmProx<float>(Activation.ReLU, 17, 47, 40, transA, transB, Addend.Matrix, withDerivative, pad: 3);
        CheckGemmProx<double>(Activation.Tanh, 17, 47, 40, transA, transB, Addend.Bias, withDerivative, pad: 2);
    }

    /// <summary>The fused kernel computes exactly what its composition (GEMM, addend, prox) computes, bit for bit.</summary>
    [Test]
    public void GemmProxEqualsItsComposition([Values(Addend.Bias, Addend.Matrix)] Addend addend)
    {
        int m = 40, n = 70, k = 300;
        using var a = Device.FromArray(To<float>(Random(m * k, 1)), m, k);
        using var b = Device.FromArray(To<float>(Random(n * k, 2)), n, k);
        using var add = addend == Addend.Bias ? Device.FromArray(To<float>(Random(n, 3)), n) : Device.FromArray(To<float>(Random(m * n, 3)), m, n);
        using var fused = Device.Allocate<float>(m, n);
        using var fusedDerivative = Device.Allocate<float>(m, n);
        using var composed = Device.Allocate<float>(m, n);
        using var composedDerivative = Device.Allocate<float>(m, n);
        Device.GemmProx(Activation.ReLU, MatrixOp.None, MatrixOp.Transpose, a, b, add, fused, fusedDerivative);
        Device.Gemm(MatrixOp.None, MatrixOp.Transpose, 1f, a, b, 0f, composed);
        if (addend == Addend.Bias) Device.AddBias(composed, add, composed);
        else Device.Axpby(1f, composed, 1f, add, composed);
        Device.Prox(Activation.ReLU, composed, composed, composedDerivative);
        Assert.That(fused.ToArray(), Is.EqualTo(composed.ToArray()), "value");
        Assert.That(fusedDerivative.ToArray(), Is.EqualTo(composedDerivative.ToArray()), "σ′");
    }

    [Test]
    public void GemmProxRejectsBadShapesAndAliases()
    {
        using var a = Device.Allocate<float>(4, 6);
        using var b = Device.Allocate<float>(5, 6);
        using var value = Device.Allocate<float>(4, 5);
        using var wrongBias = Device.Allocate<float>(4);
        using var wrongDerivative = Device.Allocate<float>(5, 4);
        Assert.That(() => Device.GemmProx(Activation.ReLU, MatrixOp.None, MatrixOp.None, a, b, null, value),
            Throws.TypeOf<ShapeException>().With.Message.Contains("op(B) is 5×6"));
        Assert.That(() => Device.GemmProx(Activation.ReLU, MatrixOp.None, MatrixOp.Transpose, a, b, wrongBias, value),
            Throws.TypeOf<ShapeException>().With.Message.Contains("addend"));
        Assert.That(() => Device.GemmProx(Activation.ReLU, MatrixOp.None, MatrixOp.Transpose, a, b, null, value, wrongDerivative),
            Throws.TypeOf<ShapeException>().With.Message.Contains("derivative"));
        using var square = Device.Allocate<float>(6, 6);
        using var squareValue = Device.Allocate<float>(6, 6);
        Assert.That(() => Device.GemmProx(Activation.ReLU, MatrixOp.None, MatrixOp.None, square, square, squareValue, squareValue),
            Throws.ArgumentException.With.Message.Contains("overlaps the addend"));
        Assert.That(() => Device.GemmProx(Activation.ReLU, MatrixOp.None, MatrixOp.None, squareValue, square, null, squareValue),
            Throws.ArgumentException.With.Message.Contains("overlaps A"));
    }

    private void CheckGemmProx<T>(Activation activation, int m, int n, int k, bool transA, bool transB, Addend addend, bool withDerivative, int pad)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int seed = ((m * 31 + n) * 31 + k) * 8 + (transA ? 4 : 0) + (transB ? 2 : 0) + (int)addend;
        var a = Random(m * k, seed);
        var b = Random(k * n, seed + 1);
        double[]? add = addend switch { Addend.Bias => Random(n, seed + 2), Addend.Matrix => Random(m * n, seed + 2), _ => null };
        using var A = new Strided<T>(Device, a, pad, transA ? [k, m] : [m, k]);
        using var B = new Strided<T>(Device, b, pad, transB ? [n, k] : [k, n]);
        using var Add = add is null ? null : addend == Addend.Bias ? new Strided<T>(Device, add, 0, n) : new Strided<T>(Device, add, pad, m, n);
        using var value = new Strided<T>(Device, Enumerable.Repeat(double.NaN, m * n).ToArray(), pad, m, n); // never read
        using var derivative = withDerivative ? new Strided<T>(Device, new double[m * n], pad + 1, m, n) : null;

        Device.GemmProx(activation, transA ? MatrixOp.Transpose : MatrixOp.None, transB ? MatrixOp.Transpose : MatrixOp.None,
            A.View, B.View, Add?.View, value.View, derivative?.View);

        var pre = ReferenceKernels.GemmPreActivation(transA, transB, m, n, k, a, b, add);
        var (ez, ed, _) = ProxKernelTests.ReferenceProx<T>(activation, pre);
        var addendMatrix = Enumerable.Range(0, m * n).Select(i => add is null ? 0 : addend == Addend.Bias ? add[i % n] : add[i]).ToArray();
        var scale = GemmKernelTests.Magnitudes(transA, transB, m, n, k, 1, a, b, 1, addendMatrix);
        double tol = GemmKernelTests.GemmTolerance<T>(k) + 64 * Unit<T>(); // the GEMM's rounding, then the activation's own
        string what = $"gemm-prox<{typeof(T).Name}> {activation} {m}×{n}×{k} op(A)={(transA ? "T" : "N")} op(B)={(transB ? "T" : "N")} addend={addend} pad={pad}";
        Close(ez, value.Values, tol, i => scale[i] + 1, what + " value");
        value.AssertPaddingUntouched(what);
        if (derivative is null) return;
        var actual = derivative.Values;
        bool piecewiseLinear = activation.Kind is ActivationKind.ReLU or ActivationKind.LeakyReLU or ActivationKind.Identity;
        var nearKink = Enumerable.Range(0, m * n).Where(i => piecewiseLinear && Math.Abs(pre[i]) <= tol * (scale[i] + 1)).ToHashSet();
        var expected = ed.Select((e, i) => nearKink.Contains(i) ? double.CreateChecked(actual[i]) : e).ToArray();
        Close(expected, actual, tol, i => scale[i] + 1, what + " σ′");
        derivative.AssertPaddingUntouched(what);
    }
}
