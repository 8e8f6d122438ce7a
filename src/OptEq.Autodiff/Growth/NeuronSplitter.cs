using OptEq.Autodiff.Layers;
using OptEq.Autodiff.Models;

namespace OptEq.Autodiff.Growth;

/// <summary>
/// One neuron to split: the layer, the neuron, the unit direction v (in the neuron's parameter space: [w; b] for a dense
/// neuron, [w; u; b] for an OptEq unit) and whether the split is signed (docs/math.md §5.5).
/// </summary>
public sealed record SplitDecision(SplitTarget Target, int Neuron, double[] Direction, bool Signed = false);

/// <summary>
/// Splits neurons (docs/math.md §5): each split neuron keeps its index and its offspring is appended to its layer.
/// Dense, plain: θ ± εv, outgoing column halved on both. Dense, signed: θ + εv with outgoing weight 2c and θ + 2εv with −c.
/// OptEq unit: both copies (θ ± εv)/√2 in (w, u, b), head columns h/√2 each, and a zero row appended to V so it stays
/// square (W'W'ᵀ keeps WWᵀ's nonzero spectrum, so ‖W'‖ = ‖W‖ at ε = 0). Returns the grown configuration (its spec
/// explicit, widths updated) and every parameter's new values by name.
/// </summary>
public static class NeuronSplitter
{
    public static (ModelConfig Config, Dictionary<string, double[]> Parameters) Split<T>(Classifier<T> model, IReadOnlyList<SplitDecision> decisions, double epsilon)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var values = model.Parameters().ToDictionary(p => p.Name, p => p.Value.ToArray().Select(double.CreateChecked).ToArray());
        var layers = model.Spec.Layers.ToList();
        var config = model.Config;
        foreach (var group in decisions.GroupBy(dd => dd.Target.LayerIndex))
        {
            int i = group.Key;
            var list = group.ToList();
            var target = list[0].Target;
            if (target.Kind == SplitKind.Dense)
            {
                var spec = (LinearSpec)layers[i];
                var next = (LinearSpec)layers[i + 2];
                SplitDense(values, spec, next, model.Spec.Layers.Take(i).Aggregate(model.Spec.Input, (w, l) => l.OutputSize(w)), list, epsilon);
                layers[i] = spec with { Output = spec.Output + list.Count };
                if (config.Model == ModelKind.Mlp)
                {
                    int index = layers.Take(i).Count(l => l is LinearSpec);
                    var widths = (int[])config.Layers.Clone();
                    if (index < widths.Length) widths[index] += list.Count;
                    config = config with { Layers = widths };
                }
            }
            else
            {
                var spec = (OptEqSpec)layers[i];
                SplitTarget.CheckOptEq(spec);
                var head = (LinearSpec)layers[i + 1];
                var layer = (OptEqLayer<T>)model.Layers[i];
                SplitOptEq(values, spec, head, SplittingAnalysis.EffectiveW(layer), list, epsilon);
                layers[i] = spec with { Hidden = spec.Hidden + list.Count };
                if (config.Model == ModelKind.OptEq) config = config with { Hidden = spec.Hidden + list.Count };
            }
        }
        config = config with { Spec = new ModelSpec { Input = model.Spec.Input, Layers = layers } };
        config.Validate();
        return (config, values);
    }

    /// <summary>A classifier of the grown configuration holding the given parameter values.</summary>
    public static Classifier<T> Build<T>(Device device, ModelConfig config, IReadOnlyDictionary<string, double[]> parameters) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var model = new Classifier<T>(device, config);
        foreach (var p in model.Parameters())
        {
            if (!parameters.TryGetValue(p.Name, out var v) || v.Length != p.Length)
            {
                model.Dispose();
                throw new InvalidOperationException($"splitting: no values of the right size for parameter '{p.Name}'");
            }
            p.Value.CopyFrom(v.Select(T.CreateChecked).ToArray());
        }
        return model;
    }

    private static void SplitDense(Dictionary<string, double[]> values, LinearSpec spec, LinearSpec next, int fanIn, List<SplitDecision> list, double epsilon)
    {
        int h = spec.Output, grown = h + list.Count, outputs = next.Output;
        var w = values[$"{spec.Name}.weight"];
        var b = spec.Bias ? values[$"{spec.Name}.bias"] : null;
        var nw = values[$"{next.Name}.weight"];
        var newW = new double[grown * fanIn];
        Array.Copy(w, newW, w.Length);
        var newB = b is null ? null : new double[grown];
        if (b is not null) Array.Copy(b, newB!, b.Length);
        var newNext = new double[outputs * grown];
        for (int o = 0; o < outputs; o++) Array.Copy(nw, o * h, newNext, o * grown, h);
        for (int t = 0; t < list.Count; t++)
        {
            var (j, v, signed) = (list[t].Neuron, list[t].Direction, list[t].Signed);
            int child = h + t;
            // plain: (+εv, ½), (−εv, ½); signed: (+εv, 2), (+2εv, −1) — both keep Σ weight·offset = 0 (docs/math.md §5.5)
            double stepParent = epsilon, stepChild = signed ? 2 * epsilon : -epsilon, weightParent = signed ? 2 : 0.5, weightChild = signed ? -1 : 0.5;
            for (int q = 0; q < fanIn; q++)
            {
                double theta = w[j * fanIn + q];
                newW[j * fanIn + q] = theta + stepParent * v[q];
                newW[child * fanIn + q] = theta + stepChild * v[q];
            }
            if (newB is not null)
            {
                double theta = b![j];
                newB[j] = theta + stepParent * v[fanIn];
                newB[child] = theta + stepChild * v[fanIn];
            }
            for (int o = 0; o < outputs; o++)
            {
                double c = nw[o * h + j];
                newNext[o * grown + j] = weightParent * c;
                newNext[o * grown + child] = weightChild * c;
            }
        }
        values[$"{spec.Name}.weight"] = newW;
        if (newB is not null) values[$"{spec.Name}.bias"] = newB;
        values[$"{next.Name}.weight"] = newNext;
    }

    private static void SplitOptEq(Dictionary<string, double[]> values, OptEqSpec spec, LinearSpec head, double[] w, List<SplitDecision> list, double epsilon)
    {
        if (list.Any(dd => dd.Signed))
            throw new ArgumentException("signed splitting cannot split an OptEq unit: with M = WᵀW a unit's weight into Wz is its own input weight, so no copy can take a negative output weight (docs/math.md §5.6)");
        int h = spec.Hidden, grown = h + list.Count, k = h, classes = head.Output;
        var vOld = values[$"{spec.Name}.V"];
        int fanIn = values[$"{spec.Name}.U"].Length / h;
        double vNorm = Math.Sqrt(vOld.Sum(t => t * t));
        var u = values[$"{spec.Name}.U"];
        var b = values[$"{spec.Name}.b"];
        var hw = values[$"{head.Name}.weight"];
        var newW = new double[grown * grown]; // rows k..grown-1 stay zero
        var newU = new double[grown * fanIn];
        var newB = new double[grown];
        var newHead = new double[classes * grown];
        for (int r = 0; r < k; r++) Array.Copy(w, r * h, newW, r * grown, h);
        Array.Copy(u, newU, u.Length);
        Array.Copy(b, newB, b.Length);
        for (int o = 0; o < classes; o++) Array.Copy(hw, o * h, newHead, o * grown, h);
        double root = 1 / Math.Sqrt(2);
        for (int t = 0; t < list.Count; t++)
        {
            var (j, v) = (list[t].Neuron, list[t].Direction);
            int child = h + t;
            for (int r = 0; r < k; r++)
            {
                newW[r * grown + j] = root * (w[r * h + j] + epsilon * v[r]);
                newW[r * grown + child] = root * (w[r * h + j] - epsilon * v[r]);
            }
            for (int q = 0; q < fanIn; q++)
            {
                newU[j * fanIn + q] = root * (u[j * fanIn + q] + epsilon * v[k + q]);
                newU[child * fanIn + q] = root * (u[j * fanIn + q] - epsilon * v[k + q]);
            }
            newB[j] = root * (b[j] + epsilon * v[k + fanIn]);
            newB[child] = root * (b[j] - epsilon * v[k + fanIn]);
            for (int o = 0; o < classes; o++)
            {
                newHead[o * grown + j] = root * hw[o * h + j];
                newHead[o * grown + child] = root * hw[o * h + j];
            }
        }
        // V' ∝ W' at V's own scale: the layer's W = γV'/‖V'‖_F is W' up to the O(ε²) rescaling §5.6 accounts for.
        double scale = vNorm / spec.Gamma;
        values[$"{spec.Name}.V"] = newW.Select(t => t * scale).ToArray();
        values[$"{spec.Name}.U"] = newU;
        values[$"{spec.Name}.b"] = newB;
        values[$"{head.Name}.weight"] = newHead;
    }
}
