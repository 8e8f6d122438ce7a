using System.Runtime.Intrinsics.X86;
using NUnit.Framework;
using OptEq.Kernels.Native;

namespace OptEq.Tests.Kernels;

/// <summary>
/// The awkward conv cases (<see cref="ConvCase.Awkward"/>) reach each native float32 algorithm, so that the reference
/// comparisons in <see cref="Conv2dKernelTests"/> test the direct kernels and not only im2col + GEMM.
/// </summary>
[TestFixture]
public sealed class Conv2dNativePathTests
{
    [Test]
    public void AwkwardCasesReachTheDirectAndPolyphasePaths()
    {
        if (!Fma.IsSupported || !Avx2.IsSupported || NativeConvolution.ColumnsOnly) Assert.Ignore("the direct kernels need AVX2 + FMA");
        var geometries = ConvCase.Awkward.Select(c => ConvCase.Parse(c).G).ToArray();
        int Count(Func<OptEq.Kernels.Conv2dGeometry, bool> reaches, bool circular) =>
            geometries.Count(g => reaches(g) && (g.PaddingMode == OptEq.Kernels.ConvPadding.Circular) == circular);
        foreach (bool circular in new[] { false, true })
        {
            string border = circular ? "circular" : "zero";
            Assert.That(Count(g => DirectConv.Applies(g), circular), Is.GreaterThanOrEqualTo(1), $"stride-1 forward, {border} padding");
            Assert.That(Count(g => DirectConvWeight.Applies(g), circular), Is.GreaterThanOrEqualTo(2), $"stride-1 weight gradient with few input channels, {border} padding");
            Assert.That(Count(g => PolyphaseConv.Applies(g), circular), Is.GreaterThanOrEqualTo(3), $"stride-2 forward, {border} padding");
            Assert.That(Count(g => PolyphaseConvTranspose.Applies(g), circular), Is.GreaterThanOrEqualTo(3), $"stride-2 input gradient, {border} padding");
            Assert.That(Count(g => PolyphaseConvWeight.Applies(g), circular), Is.GreaterThanOrEqualTo(3), $"stride-2 weight gradient, {border} padding");
        }
        // Kernels with an even size and a 1×1 kernel (a phase without taps) at stride 2, both ways.
        Assert.That(geometries.Any(g => PolyphaseConvTranspose.Applies(g) && PolyphaseConv.Applies(g) && (g.KernelHeight % 2 == 0 || g.KernelWidth % 2 == 0)), "an even kernel size at stride 2");
        Assert.That(geometries.Any(g => PolyphaseConvTranspose.Applies(g) && PolyphaseConv.Applies(g) && g.KernelHeight == 1), "a 1×1 kernel at stride 2");
    }
}
