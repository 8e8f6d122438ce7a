using NUnit.Framework;
using OptEq.Autodiff;
using OptEq.Autodiff.Checks;
using OptEq.Autodiff.Layers;
using OptEq.Kernels;
using OptEq.Kernels.Native;
using OptEq.Solvers;

namespace OptEq.Tests.Conv;

/// <summary>Float64 finite-difference checks of the convolution ops and the convolutional OptEq layer (docs/math.md §1.7), tiny images.</summary>
public class ConvOpsGradientTests
{
    private NativeCpuDevice _device = null!;

    [OneTimeSetUp] public void Open() => _device = new NativeCpuDevice();
    [OneTimeTearDown] public void Close() => _device.Dispose();

    private Tensor<double> Random(int seed, params int[] shape)
    {
        var rng = new Random(seed);
        long n = 1;
        foreach (var s in shape) n *= s;
        return _device.FromArray(Enumerable.Range(0, (int)n).Select(_ => rng.NextDouble() - 0.5).ToArray(), shape);
    }

    [TestCase(1, 1, ConvPadding.Zero)]
    [TestCase(2, 1, ConvPadding.Zero)]
    [TestCase(1, 1, ConvPadding.Circular)]
    public void Conv2dGradientsMatchFiniteDifferences(int stride, int padding, ConvPadding mode)
    {
        var g = new Conv2dGeometry(2, 5, 5, 3, 3, 3, stride, padding, mode);
        using var x = Random(1, 2, g.InputSize);
        using var w = Random(2, 3, g.WeightColumns);
        using var b = Random(3, 3);
        Variable<double>? vx = null, vw = null, vb = null;
        var result = GradientCheck.Check("conv2d", $"stride {stride} {mode}", _device, tape =>
        {
            vx = tape.Leaf(x); vw = tape.Leaf(w); vb = tape.Leaf(b);
            return Ops.Conv2d(vx, vw, vb, g);
        }, [("x", x, () => vx?.Grad), ("w", w, () => vw?.Grad), ("b", b, () => vb?.Grad)], () => { });
        Assert.That(result.Passes, result.ToString());
    }

    [Test]
    public void AvgPool2dGradientMatchesFiniteDifferences()
    {
        var g = new Pool2dGeometry(2, 5, 5, 2, 2);
        using var x = Random(4, 3, g.InputSize);
        Variable<double>? vx = null;
        var result = GradientCheck.Check("avgpool2d", "2x2", _device, tape => Ops.AvgPool2d(vx = tape.Leaf(x), g), [("x", x, () => vx?.Grad)], () => { });
        Assert.That(result.Passes, result.ToString());
    }

    /// <summary>Exact solves (tight forward and CG tolerances, many power steps, so σ and z* are exact at every evaluation).</summary>
    internal static ConvOptEqLayerOptions Exact(ConvPadding padding, int stride = 1, ObjectivePriors? priors = null) => new()
    {
        InChannels = 2, Height = 5, Width = 5, Channels = 3, KernelSize = 3, Padding = padding, InjectionStride = stride, Gamma = 0.9, PowerSteps = 2000,
        Priors = priors ?? new(),
        Forward = new SolverOptions { Solver = ForwardSolvers.Anderson, MaxIterations = 400, Tolerance = 1e-13 },
        Backward = new BackwardOptions { Adjoint = AdjointSolvers.ConjugateGradient, AdjointOptions = new SolverOptions { MaxIterations = 400, Tolerance = 1e-13 } },
    };

    [TestCase(ConvPadding.Zero, 1)]
    [TestCase(ConvPadding.Circular, 1)]
    [TestCase(ConvPadding.Zero, 2)]
    public void ConvOptEqLayerGradientsMatchFiniteDifferences(ConvPadding padding, int stride)
    {
        using var layer = new ConvOptEqLayer<double>(_device, "conv", Exact(padding, stride), new Random(7));
        using var x = Random(5, 2, 2 * 5 * 5);
        var result = GradientCheck.CheckLayer("conv-opteq", $"{padding} stride {stride}", layer, x);
        Assert.That(result.Passes, result.ToString());
    }

    [Test]
    public void ConvOptEqLayerWithPriorsMatchesFiniteDifferences()
    {
        using var layer = new ConvOptEqLayer<double>(_device, "conv", Exact(ConvPadding.Zero, priors: new ObjectivePriors { L2 = 0.3, L1 = 0.05 }), new Random(8));
        using var x = Random(6, 2, 2 * 5 * 5);
        var result = GradientCheck.CheckLayer("conv-opteq", "ℓ2 + ℓ1 priors", layer, x);
        Assert.That(result.Passes, result.ToString());
    }
}
