using System.Numerics;
using NUnit.Framework;
using OptEq.Kernels;
using OptEq.Kernels.Native;
using OptEq.Solvers.Operators;
using OptEq.Tests.Kernels;

namespace OptEq.Tests.Conv;

/// <summary>
/// The multi-tier operator on every kernel backend (native, ILGPU's CPU simulator, CUDA where present), float32: its
/// blocks run on strided column views of the state rows, which each backend must honour. Held to the float64 native
/// operator, itself held to the unrolled block definition in <see cref="MultiTierOperatorTests"/>. 5×5 images (tier 2
/// at 3×3 from an odd size), batch 3.
/// </summary>
[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public sealed class MultiTierOperatorBackendTests(string backend) : KernelTestsBase(backend)
{
    [TestCase(ConvPadding.Zero)]
    [TestCase(ConvPadding.Circular)]
    public void ApplyTransposeAndWeightGradientsMatchTheFloat64Operator(ConvPadding padding)
    {
        var tiers = MultiTierGeometry.Build([2, 3], 5, 5, 3, padding);
        var rng = new Random(17);
        // float32-representable inputs, so both precisions see the same numbers.
        float[] Values(int n) => [.. Enumerable.Range(0, n).Select(_ => (float)Math.Round(rng.NextDouble() - 0.5, 3))];
        var blocks = tiers.Diagonal.Concat(tiers.Below).ToArray();
        var weights = blocks.Select(g => Values(g.OutChannels * g.WeightColumns)).ToArray();
        var v = Values(3 * tiers.Size);
        var g0 = Values(3 * tiers.Size);

        double[] apply, transpose;
        double[][] gradients;
        using (var native = new NativeCpuDevice())
            (apply, transpose, gradients) = Evaluate(native, tiers, blocks, weights, v, g0, x => (double)x, x => x);
        var (applyF, transposeF, gradientsF) = Evaluate(Device, tiers, blocks, weights, v, g0, x => x, x => (double)x);

        static void Close(double[] expected, double[] actual, string what)
        {
            double scale = Math.Max(1, expected.Max(Math.Abs));
            double worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
            Assert.That(worst, Is.LessThan(1e-5 * scale), what);
        }
        Close(apply, applyF, "W v + 0.5·r");
        Close(transpose, transposeF, "Wᵀ v + 0.5·r");
        for (int b = 0; b < gradients.Length; b++) Close(gradients[b], gradientsF[b], $"weight gradient of block {b}");
    }

    private static (double[] Apply, double[] Transpose, double[][] Gradients) Evaluate<T>(Device device, MultiTierGeometry tiers, Conv2dGeometry[] blocks,
        float[][] weights, float[] v, float[] g, Func<float, T> to, Func<T, double> back) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var w = weights.Select((x, i) => device.FromArray(x.Select(to).ToArray(), blocks[i].OutChannels, blocks[i].WeightColumns)).ToArray();
        var grads = w.Select(t => device.Allocate<T>(t.Shape)).ToArray();
        using var vt = device.FromArray(v.Select(to).ToArray(), 3, tiers.Size);
        using var gt = device.FromArray(g.Select(to).ToArray(), 3, tiers.Size);
        using var r = device.Allocate<T>(3, tiers.Size);
        try
        {
            var op = new MultiTierOperator<T>(tiers, w);
            device.Copy(gt, r);
            op.Apply(vt, r, T.CreateChecked(0.5));
            var apply = r.ToArray().Select(back).ToArray();
            device.Copy(gt, r);
            op.ApplyTranspose(vt, r, T.CreateChecked(0.5));
            var transpose = r.ToArray().Select(back).ToArray();
            foreach (var t in grads) device.Fill(t, T.Zero);
            op.AccumulateWeightGradients(vt, gt, grads);
            return (apply, transpose, grads.Select(t => t.ToArray().Select(back).ToArray()).ToArray());
        }
        finally { foreach (var t in w.Concat(grads)) t.Dispose(); }
    }
}
