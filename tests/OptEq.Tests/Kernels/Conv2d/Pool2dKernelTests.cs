using System.Numerics;
using NUnit.Framework;
using OptEq.Kernels;
using OptEq.Kernels.Reference;
using static OptEq.Tests.Kernels.KernelAssert;

namespace OptEq.Tests.Kernels;

/// <summary>Average pooling on every backend: against the float64 reference, its backward against finite differences and as the adjoint.</summary>
[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public sealed class Pool2dKernelTests(string backend) : KernelTestsBase(backend)
{
    /// <summary>
    /// batch, channels, height, width, window, stride: 1×1, odd sizes that drop a last row and column, 4×4 windows,
    /// overlapping windows, gapped windows, and rows wider than a vector (the native tiling path's vector loop and tail).
    /// </summary>
    private static readonly int[][] Shapes =
    [
        [1, 1, 1, 1, 1, 1],
        [3, 2, 5, 7, 2, 2],
        [2, 3, 8, 8, 4, 4],
        [2, 5, 6, 5, 3, 1],
        [1, 7, 9, 9, 2, 3],
        [2, 3, 11, 19, 2, 2],
        [1, 2, 28, 28, 4, 4],
    ];

    private static IEnumerable<int> ShapeIndices => Enumerable.Range(0, Shapes.Length);

    private static (Pool2dGeometry G, int Batch) Shape(int i) => (new Pool2dGeometry(Shapes[i][1], Shapes[i][2], Shapes[i][3], Shapes[i][4], Shapes[i][5]), Shapes[i][0]);

    private static double Tolerance<T>(int terms) => 16 * Unit<T>() * (Math.Sqrt(terms) + 2);

    [Test]
    public void AvgPoolMatchesReference([ValueSource(nameof(ShapeIndices))] int shape, [Values] Precision precision)
        => Run(precision, () => CheckPool<float>(shape), () => CheckPool<double>(shape));

    [Test]
    public void AvgPoolBackwardMatchesReference([ValueSource(nameof(ShapeIndices))] int shape, [Values] Precision precision, [Values(0.0, -0.5)] double beta)
        => Run(precision, () => CheckPoolBackward<float>(shape, beta), () => CheckPoolBackward<double>(shape, beta));

    [Test]
    public void AvgPoolBackwardIsTheGradientAndTheAdjoint([ValueSource(nameof(ShapeIndices))] int shape)
    {
        var (g, batch) = Shape(shape);
        var x = Random(batch * g.InputSize, 41);
        var gy = Random(batch * g.OutputSize, 42);
        using var X = Device.FromArray(x, batch, g.InputSize);
        using var Y = Device.Allocate<double>(batch, g.OutputSize);
        using var GY = Device.FromArray(gy, batch, g.OutputSize);
        using var DX = Device.Allocate<double>(batch, g.InputSize);
        Device.AvgPool2dBackward(g, GY, DX);
        var dx = DX.ToArray();
        Conv2dKernelTests.CheckDirections("input", x, dx, v =>
        {
            X.CopyFrom(v);
            Device.AvgPool2d(g, X, Y);
            return Conv2dKernelTests.Dot(gy, Y.ToArray());
        });
        X.CopyFrom(x);
        Device.AvgPool2d(g, X, Y);
        double left = Conv2dKernelTests.Dot(Y.ToArray(), gy), right = Conv2dKernelTests.Dot(x, dx);
        Assert.That(left, Is.EqualTo(right).Within(1e-12 * (1 + Math.Abs(left))), $"⟨pool(x), y⟩ against ⟨x, poolᵀ(y)⟩ for {g}");
    }

    private void CheckPool<T>(int shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (g, batch) = Shape(shape);
        var x = Random(batch * g.InputSize, shape);
        using var X = new Strided<T>(Device, x, 2, batch, g.InputSize);
        using var Y = new Strided<T>(Device, Enumerable.Repeat(double.NaN, batch * g.OutputSize).ToArray(), 1, batch, g.OutputSize);
        Device.AvgPool2d(g, X.View, Y.View);
        var expected = ReferenceKernels.AvgPool2d(g, batch, x);
        var scale = ReferenceKernels.AvgPool2d(g, batch, Conv2dKernelTests.Abs(x));
        Close(expected, Y.Values, Tolerance<T>(g.Kernel * g.Kernel), i => scale[i], $"avg-pool2d<{typeof(T).Name}> {g}");
        Y.AssertPaddingUntouched("avg-pool2d");
    }

    private void CheckPoolBackward<T>(int shape, double beta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (g, batch) = Shape(shape);
        var gy = Random(batch * g.OutputSize, shape + 10);
        var dx0 = beta == 0 ? Enumerable.Repeat(double.NaN, batch * g.InputSize).ToArray() : Random(batch * g.InputSize, shape + 20);
        using var GY = new Strided<T>(Device, gy, 1, batch, g.OutputSize);
        using var DX = new Strided<T>(Device, dx0, 2, batch, g.InputSize);
        Device.AvgPool2dBackward(g, GY.View, DX.View, T.CreateChecked(beta));
        var expected = ReferenceKernels.AvgPool2dBackward(g, batch, gy, beta, dx0);
        var scale = ReferenceKernels.AvgPool2dBackward(g, batch, Conv2dKernelTests.Abs(gy), Math.Abs(beta), beta == 0 ? null : Conv2dKernelTests.Abs(dx0));
        Close(expected, DX.Values, Tolerance<T>(g.Kernel * g.Kernel + 1), i => scale[i], $"avg-pool2d-backward<{typeof(T).Name}> {g}");
        DX.AssertPaddingUntouched("avg-pool2d-backward");
    }
}
