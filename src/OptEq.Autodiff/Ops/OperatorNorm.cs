using OptEq.Solvers.Operators;

namespace OptEq.Autodiff;

/// <summary>
/// Persistent power-iteration vectors for the spectral norm of a linear operator V (a convolution, a block operator):
/// u [1, OutputSize], v [1, InputSize], kept across training steps as the dense <see cref="PowerIterationState{T}"/>.
/// </summary>
public sealed class OperatorPowerIterationState<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    public OperatorPowerIterationState(Device device, int inputSize, int outputSize, int seed = 0)
    {
        var rng = new Random(seed);
        Left = device.FromArray(Enumerable.Range(0, outputSize).Select(_ => T.CreateChecked(rng.NextDouble() - 0.5)).ToArray(), 1, outputSize);
        Right = device.Allocate<T>(1, inputSize);
    }

    /// <summary>Power steps per forward pass (a few in training, where the weights move slowly; many for an exact σ).</summary>
    public int StepsPerForward { get; set; } = 2;

    /// <summary>Power steps of the first forward of a fresh state (a new layer, or one whose weights were just loaded
    /// from a checkpoint, which does not store the vectors): enough that σ̂ starts near σ and a reloaded model evaluates as
    /// the trained one did, not with ||W||₂ above γ.</summary>
    public int WarmUpSteps { get; set; } = 100;

    /// <summary>Whether the warm-up steps have run.</summary>
    public bool Warm { get; internal set; }
    /// <summary>u, [1, OutputSize], unit.</summary>
    public Tensor<T> Left { get; }
    /// <summary>v, [1, InputSize], unit.</summary>
    public Tensor<T> Right { get; }
    /// <summary>σ of the last forward pass.</summary>
    public double Sigma { get; internal set; }

    public void Dispose() { Left.Dispose(); Right.Dispose(); }
}

public static partial class Ops
{
    /// <summary>
    /// W_i = γ·V_i/σ(V) for the weights V_i of one linear operator V (docs/math.md §1.7): ||W||₂ ≤ γ on the operator
    /// itself. σ comes from persistent power steps on VᵀV (v ← Vᵀu/||·||, u ← V v/||·||, σ = ||V v||) and is
    /// differentiated as PyTorch's spectral_norm: dσ = uᵀ dV v, i.e. ∂σ/∂V_i = the operator's weight gradient of
    /// ⟨u, V v⟩. Backward: dV_i += (γ/σ)dW_i − (γ/σ²)(Σ_j ⟨dW_j, V_j⟩)·∂σ/∂V_i. Reads scalars back to the host once per
    /// call and once per output's backward: it runs once per training step, never inside a solver iteration.
    /// </summary>
    /// <param name="operatorOfV">The operator built on the V_i's values (batch-1 applications).</param>
    public static Variable<T>[] ScaleToOperatorNorm<T>(IReadOnlyList<Variable<T>> v, IParameterisedOperator<T> operatorOfV, double gamma, OperatorPowerIterationState<T> power)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!(gamma > 0)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "γ must be > 0");
        ArgumentNullException.ThrowIfNull(operatorOfV);
        ArgumentNullException.ThrowIfNull(power);
        if (v.Count != operatorOfV.Weights.Count) throw new ArgumentException("the operator must read exactly the given weights");
        var tape = v[0].Tape;
        var device = tape.Device;
        var scalar = tape.Rent(1);
        var directions = new Tensor<T>[v.Count]; // ∂σ/∂V_i
        var values = new Tensor<T>[v.Count];
        for (int i = 0; i < v.Count; i++) { directions[i] = tape.Rent(v[i].Shape); values[i] = tape.Rent(v[i].Shape); }
        double s = 0;
        T factor = T.Zero;
        tape.Compute(() =>
        {
            s = 0;
            int steps = power.Warm ? power.StepsPerForward : Math.Max(power.StepsPerForward, power.WarmUpSteps);
            power.Warm = true;
            for (int step = 0; step < steps; step++)
            {
                operatorOfV.ApplyTranspose(power.Left, power.Right, T.Zero);
                Normalise(power.Right, scalar);
                operatorOfV.Apply(power.Right, power.Left, T.Zero);
                s = Normalise(power.Left, scalar);
            }
            if (!(s > 0) || !double.IsFinite(s)) throw new InvalidOperationException($"cannot scale an operator with norm {s} (all zero or not finite)");
            power.Sigma = s;
            foreach (var direction in directions) device.Fill(direction, T.Zero);
            operatorOfV.AccumulateWeightGradients(power.Right, power.Left, directions);
            factor = T.CreateChecked(gamma / s);
            for (int i = 0; i < values.Length; i++) device.Axpby(factor, v[i].Value, T.Zero, v[i].Value, values[i]);
        });
        var outputs = new Variable<T>[v.Count];
        for (int j = 0; j < v.Count; j++)
        {
            var vj = v[j];
            var y = tape.Result(values[j], vj);
            outputs[j] = y;
            Tensor<T>? dyFlat = null, vFlat = null; // views made on the first backward, reused on replays
            tape.Record(y, () =>
            {
                device.RowReduce(RowReduction.Dot, dyFlat ??= y.GradBuffer.Reshape(1, -1), vFlat ??= vj.Value.Reshape(1, -1), scalar);
                double inner = ReadScalar(scalar);
                if (vj.RequiresGrad) device.Axpby(factor, y.GradBuffer, T.One, vj.GradBuffer, vj.GradBuffer);
                T coupling = T.CreateChecked(-gamma * inner / (s * s));
                for (int i = 0; i < v.Count; i++)
                    if (v[i].RequiresGrad) device.Axpby(coupling, directions[i], T.One, v[i].GradBuffer, v[i].GradBuffer);
            });
        }
        return outputs;
    }
}
