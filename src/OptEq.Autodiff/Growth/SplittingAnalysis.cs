using OptEq.Autodiff.Layers;
using OptEq.Autodiff.Models;

namespace OptEq.Autodiff.Growth;

/// <summary>One growable layer's splitting matrices, with the numbers the splitter needs.</summary>
public sealed record LayerSplitting(SplitTarget Target, SplittingOperator Operator);

/// <summary>
/// Builds the splitting matrices of every growable layer from one recorded forward and backward pass over a batch (the
/// mean cross-entropy): the layer inputs and pre-activations the tape holds, and the gradients it computed
/// (docs/math.md §5.2, §5.6). Parameters' gradients are zeroed afterwards.
/// </summary>
public static class SplittingAnalysis
{
    /// <param name="surrogate">Use the β-softplus σ″ for piecewise-linear activations (training); off, σ″ = 0 a.e. (exact).</param>
    public static IReadOnlyList<LayerSplitting> Analyse<T>(Device device, Classifier<T> model, Tensor<T> images, Tensor<int> labels, bool surrogate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var targets = SplitTarget.Of(model.Spec);
        using var tape = new Tape<T>(device);
        var x = tape.Constant(images);
        var inputs = new List<Variable<T>>();
        var outputs = new List<Variable<T>>();
        foreach (var layer in model.Layers)
        {
            inputs.Add(x);
            x = layer.Forward(x);
            outputs.Add(x);
        }
        var loss = Ops.SoftmaxCrossEntropy(x, labels, out _);
        tape.Backward(loss);
        var result = new List<LayerSplitting>();
        foreach (var target in targets)
        {
            int i = target.LayerIndex;
            result.Add(target.Kind switch
            {
                SplitKind.Dense => Dense(device, target, (Linear<T>)model.Layers[i], ((ActivationSpec)model.Spec.Layers[i + 1]).Activation, inputs[i], outputs[i], outputs[i + 1], surrogate),
                _ => OptEq(device, target, (OptEqLayer<T>)model.Layers[i], (OptEqSpec)model.Spec.Layers[i], inputs[i], outputs[i], surrogate),
            });
        }
        foreach (var p in model.Parameters()) p.ZeroGrad();
        return result;
    }

    private static double[] Host<T>(Tensor<T> t) where T : unmanaged, IFloatingPointIeee754<T> => t.ToArray().Select(double.CreateChecked).ToArray();

    private static double[] GradientOf<T>(Variable<T> v) where T : unmanaged, IFloatingPointIeee754<T>
        => v.Grad is { } g ? Host(g) : new double[v.Value.Length];

    // S_i = Σ_s g_si σ″(θ_iᵀξ_s) ξ_s ξ_sᵀ with ξ = [x; 1].
    private static LayerSplitting Dense<T>(Device device, SplitTarget target, Linear<T> linear, Kernels.Activations.Activation activation, Variable<T> input, Variable<T> pre, Variable<T> post, bool surrogate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var curvature = new SplittingCurvature(activation, surrogate);
        int n = input.Shape[0], fanIn = input.Shape[1], h = target.Width, d = fanIn + (linear.Bias is null ? 0 : 1);
        var x = Host(input.Value);
        var xi = Augment(x, n, fanIn, d);
        var s = Host(pre.Value);
        var g = GradientOf(post);
        var c = new double[n * h];
        for (int k = 0; k < c.Length; k++) c[k] = g[k] * curvature.Second(s[k]);
        return new LayerSplitting(target, new SplittingOperator(n, d, h, xi, c) { Device = device });
    }

    private static double[] Augment(double[] x, int n, int width, int d)
    {
        var xi = new double[n * d];
        for (int r = 0; r < n; r++)
        {
            Array.Copy(x, r * width, xi, r * d, width);
            if (d > width) xi[r * d + width] = 1;
        }
        return xi;
    }

    /// <summary>
    /// The OptEq unit (docs/math.md §5.6): ξ = [W z*; x; 1], ĝ = M u + g and a = W u from the adjoint u = J(M u + g)
    /// (solved here in float64), c = ĝ ⊙ σ″(v), d = σ′(v), and the Frobenius rescaling shift κ/γ², κ = Σ_s 2 uᵀ M z*.
    /// </summary>
    private static LayerSplitting OptEq<T>(Device device, SplitTarget target, OptEqLayer<T> layer, OptEqSpec spec, Variable<T> input, Variable<T> equilibrium, bool surrogate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        SplitTarget.CheckOptEq(spec);
        if (!layer.Options.Priors.IsEmpty) throw new ArgumentException("splitting an OptEq unit with objective priors is not supported");
        var curvature = new SplittingCurvature(spec.Activation, surrogate);
        int n = input.Shape[0], fanIn = input.Shape[1], h = target.Width, k = h, d = k + fanIn + 1;
        var w = EffectiveW(layer);
        var u0 = Host(layer.U.Value);
        var b = Host(layer.B.Value);
        var x = Host(input.Value);
        var z = Host(equilibrium.Value);
        var g = GradientOf(equilibrium);
        var m = new double[h * h];
        for (int i = 0; i < h; i++) for (int j = 0; j < h; j++) { double s = 0; for (int r = 0; r < k; r++) s += w[r * h + i] * w[r * h + j]; m[i * h + j] = s; }
        var xi = new double[n * d];
        var a = new double[n * k];
        var c = new double[n * h];
        var slope = new double[n * h];
        double kappa = 0;
        var v = new double[h]; var jac = new double[h]; var u = new double[h]; var next = new double[h]; var mu = new double[h];
        for (int s = 0; s < n; s++)
        {
            for (int i = 0; i < h; i++)
            {
                double t = b[i];
                for (int j = 0; j < h; j++) t += m[i * h + j] * z[s * h + j];
                for (int j = 0; j < fanIn; j++) t += u0[i * fanIn + j] * x[s * fanIn + j];
                v[i] = t;
                jac[i] = curvature.First(t);
            }
            // u = J(Mu + g): the contraction has rate ≤ ‖W‖₂² ≤ γ²; iterate to float64 accuracy.
            Array.Clear(u);
            for (int it = 0; it < 5000; it++)
            {
                double change = 0, scale = 1e-300;
                for (int i = 0; i < h; i++)
                {
                    double t = g[s * h + i];
                    for (int j = 0; j < h; j++) t += m[i * h + j] * u[j];
                    next[i] = jac[i] * t;
                    change = Math.Max(change, Math.Abs(next[i] - u[i]));
                    scale = Math.Max(scale, Math.Abs(next[i]));
                }
                (u, next) = (next, u);
                if (change <= 1e-15 * scale) break;
            }
            for (int i = 0; i < h; i++) { double t = 0; for (int j = 0; j < h; j++) t += m[i * h + j] * u[j]; mu[i] = t; }
            for (int i = 0; i < h; i++)
            {
                c[s * h + i] = (mu[i] + g[s * h + i]) * curvature.Second(v[i]);
                slope[s * h + i] = curvature.First(v[i]);
            }
            double uMz = 0;
            for (int i = 0; i < h; i++) uMz += mu[i] * z[s * h + i];
            kappa += 2 * uMz;
            for (int r = 0; r < k; r++)
            {
                double y = 0, ar = 0;
                for (int j = 0; j < h; j++) { y += w[r * h + j] * z[s * h + j]; ar += w[r * h + j] * u[j]; }
                xi[s * d + r] = y;
                a[s * k + r] = ar;
            }
            Array.Copy(x, s * fanIn, xi, s * d + k, fanIn);
            xi[s * d + d - 1] = 1;
        }
        double gamma = spec.Gamma;
        return new LayerSplitting(target, new SplittingOperator(n, d, h, xi, c) { Device = device, Cross = (k, a, slope, kappa / (gamma * gamma)) });
    }

    /// <summary>W = γ·V/‖V‖_F in float64, [k = hidden, hidden].</summary>
    public static double[] EffectiveW<T>(OptEqLayer<T> layer) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var v = Host(layer.V.Value);
        double norm = Math.Sqrt(v.Sum(t => t * t));
        return v.Select(t => layer.Options.Gamma * t / norm).ToArray();
    }
}
