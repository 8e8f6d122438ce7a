namespace OptEq.Autodiff.Checks;

/// <summary>One gradient check's outcome: the largest relative error between tape and finite-difference gradients.</summary>
public sealed record GradientCheckResult(string Target, string Mode, double MaxRelativeError, int Checked, string WorstEntry)
{
    /// <summary>The bar for exact modes.</summary>
    public const double Bar = 1e-6;
    public bool Passes => MaxRelativeError < Bar;
}

/// <summary>
/// Checks reverse-mode gradients against finite differences in float64: for a scalar loss ℓ = Σ(output ⊙ R) with a
/// fixed random R, every checked entry θᵢ compares the tape's ∂ℓ/∂θᵢ with a Richardson-extrapolated central difference
/// (4·D(h/2) − D(h))/3, D(s) = (ℓ(θᵢ + s) − ℓ(θᵢ − s))/2s, h = 2e-4: truncation error O(h⁴) and roundoff
/// ε·|ℓ|/h ≈ 1e-12, both far below the 1e-6 bar (a plain difference with h = 1e-6 has roundoff near 1e-10, which
/// swamps small gradient entries). The relative error is |a − n| / max(|a|, |n|, floor): entries whose gradient is
/// below the floor (1e-6) are judged by their absolute error. Works on any user layer or function: give it a forward
/// function and the tensors to perturb (parameters or inputs).
/// </summary>
public static class GradientCheck
{
    /// <param name="forward">Builds the output from a tape (reads the parameters and inputs through tape.Param / tape.Leaf).</param>
    /// <param name="leaves">Host-side handles: each a tensor to perturb and, after backward, where its gradient is.</param>
    /// <param name="maxEntriesPerTensor">Entries checked per tensor (a random subset when the tensor is larger).</param>
    public static GradientCheckResult Check(string target, string mode, Device device, Func<Tape<double>, Variable<double>> forward,
        IReadOnlyList<(string Name, Tensor<double> Value, Func<Tensor<double>?> Gradient)> leaves, Action zeroGradients,
        int seed = 0, int maxEntriesPerTensor = 12, double step = 2e-4, double floor = 1e-6)
    {
        var rng = new Random(seed);
        Tensor<double>? weights = null;
        double Loss(Tape<double> tape, out Variable<double> loss)
        {
            var output = forward(tape);
            if (weights is null)
            {
                var r = new double[output.Value.Length];
                for (int i = 0; i < r.Length; i++) r[i] = rng.NextDouble() - 0.5;
                weights = device.FromArray<double>(r, output.Shape);
            }
            loss = Ops.Sum(Ops.Mul(output, tape.Constant(weights)));
            return loss.Value.ToArray()[0];
        }

        try
        {
            zeroGradients();
            var analytic = new List<double[]>();
            using (var tape = new Tape<double>(device))
            {
                Loss(tape, out var loss);
                tape.Backward(loss);
                foreach (var leaf in leaves) analytic.Add(leaf.Gradient()?.ToArray() ?? new double[leaf.Value.Length]);
            }
            double worst = 0;
            string worstEntry = "";
            int count = 0;
            for (int l = 0; l < leaves.Count; l++)
            {
                var (name, value, _) = leaves[l];
                var data = value.ToArray();
                var indices = data.Length <= maxEntriesPerTensor
                    ? Enumerable.Range(0, data.Length)
                    : Enumerable.Range(0, maxEntriesPerTensor).Select(_ => rng.Next(data.Length)).Distinct();
                foreach (int i in indices)
                {
                    double original = data[i];
                    double Central(double s)
                    {
                        data[i] = original + s; value.CopyFrom(data);
                        double plus = Evaluate();
                        data[i] = original - s; value.CopyFrom(data);
                        double minus = Evaluate();
                        data[i] = original; value.CopyFrom(data);
                        return (plus - minus) / (2 * s);
                    }
                    double numeric = (4 * Central(step / 2) - Central(step)) / 3, exact = analytic[l][i];
                    double error = Math.Abs(exact - numeric) / Math.Max(Math.Max(Math.Abs(exact), Math.Abs(numeric)), floor);
                    count++;
                    if (error > worst || double.IsNaN(error))
                    {
                        worst = double.IsNaN(error) ? double.PositiveInfinity : error;
                        worstEntry = $"{name}[{i}]: tape {exact:g6}, finite difference {numeric:g6}";
                    }
                }
            }
            return new GradientCheckResult(target, mode, worst, count, worstEntry);
        }
        finally
        {
            weights?.Dispose();
        }

        double Evaluate()
        {
            using var tape = Tape<double>.NoGrad(device);
            return Loss(tape, out _);
        }
    }

    /// <summary>Checks a layer's parameters and its input.</summary>
    public static GradientCheckResult CheckLayer(string target, string mode, Layers.ILayer<double> layer, Tensor<double> input, int seed = 0)
    {
        var device = input.Device;
        Variable<double>? inputVariable = null;
        var parameters = layer.Parameters().ToList();
        var leaves = parameters.Select(p => (p.Name, p.Value, (Func<Tensor<double>?>)(() => p.Grad))).ToList();
        leaves.Add(("input", input, () => inputVariable?.Grad));
        return Check(target, mode, device, tape =>
        {
            inputVariable = tape.Leaf(input);
            return layer.Forward(inputVariable);
        }, leaves, () => { foreach (var p in parameters) p.ZeroGrad(); }, seed);
    }
}
