namespace OptEq.Autodiff;

public enum NormKind
{
    /// <summary>W = γ·V/||V||_F: cheap and conservative (||W||₂ ≤ ||W||_F = γ).</summary>
    Frobenius,
    /// <summary>W = γ·V/σ_max(V), σ_max from a persistent power iteration: tighter.</summary>
    Spectral,
}

/// <summary>Persistent power-iteration vectors for a spectral reparameterisation (one step per forward pass).</summary>
public sealed class PowerIterationState<T> : IDisposable where T : unmanaged, IFloatingPointIeee754<T>
{
    public PowerIterationState(Device device, int rows, int cols, int seed = 0)
    {
        var rng = new Random(seed);
        Left = device.FromArray(Enumerable.Range(0, rows).Select(_ => T.CreateChecked(rng.NextDouble() - 0.5)).ToArray(), 1, rows);
        Right = device.Allocate<T>(1, cols);
    }

    /// <summary>Power steps per forward pass (1 in training, where the weights move slowly; more when σ must be exact, e.g. in gradient checks).</summary>
    public int StepsPerForward { get; set; } = 1;

    /// <summary>u [1, rows] and v [1, cols], unit vectors.</summary>
    public Tensor<T> Left { get; }
    public Tensor<T> Right { get; }

    public void Dispose() { Left.Dispose(); Right.Dispose(); }
}

public static partial class Ops
{
    /// <summary>
    /// W = γ·V/s with s = ||V||_F or σ_max(V) (docs/math.md §1.2): keeps ||W||₂ ≤ γ differentiably. The backward rule is
    /// dV += (γ/s)(dW − (⟨dW, V⟩/s)·∂s/∂V) with ∂s/∂V = V/s (Frobenius) or u vᵀ (spectral, the power-iteration vectors).
    /// Reads two scalars back to the host per call: it runs once per training step, never inside a solver iteration.
    /// </summary>
    public static Variable<T> ScaleToNorm<T>(Variable<T> v, double gamma, NormKind kind, PowerIterationState<T>? power = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!(gamma > 0)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "γ must be > 0");
        if (kind == NormKind.Spectral && power is null) throw new ArgumentException("spectral scaling needs a PowerIterationState (persistent vectors)");
        var tape = v.Tape;
        var device = tape.Device;
        var flat = v.Value.Reshape(1, -1);
        var scalar = tape.Rent(1);
        var direction = kind == NormKind.Spectral ? tape.Rent(v.Shape) : null; // ∂s/∂V
        var value = tape.Rent(v.Shape);
        double s = 0; // set by the computation, read by the backward rule (both see this one variable)
        T factor = T.Zero;
        tape.Compute(() =>
        {
            if (kind == NormKind.Frobenius)
            {
                device.RowReduce(RowReduction.SquaredNorm, flat, null, scalar);
                s = Math.Sqrt(ReadScalar(scalar));
            }
            else
            {
                // Power steps: v ← normalise(u·V), u ← normalise(v·Vᵀ); σ = ||v·Vᵀ|| before normalising.
                s = 0;
                for (int step = 0; step < power!.StepsPerForward; step++)
                {
                    device.Gemm(MatrixOp.None, MatrixOp.None, T.One, power.Left, v.Value, T.Zero, power.Right);
                    Normalise(power.Right, scalar);
                    device.Gemm(MatrixOp.None, MatrixOp.Transpose, T.One, power.Right, v.Value, T.Zero, power.Left);
                    s = Normalise(power.Left, scalar);
                }
                device.Gemm(MatrixOp.Transpose, MatrixOp.None, T.One, power.Left, power.Right, T.Zero, direction!);
            }
            if (!(s > 0) || !double.IsFinite(s)) throw new InvalidOperationException($"cannot scale a weight with norm {s} (all zero or not finite)");
            factor = T.CreateChecked(gamma / s);
            device.Axpby(factor, v.Value, T.Zero, v.Value, value);
        });
        var y = tape.Result(value, v);
        Tensor<T>? dyFlat = null; // made on the first backward, reused on replays
        tape.Record(y, () =>
        {
            var dy = y.GradBuffer;
            device.RowReduce(RowReduction.Dot, dyFlat ??= dy.Reshape(1, -1), flat, scalar);
            double inner = ReadScalar(scalar);
            // dV += (γ/s)·dW − (γ/s²)·⟨dW, V⟩·∂s/∂V
            device.Axpby(factor, dy, T.One, v.GradBuffer, v.GradBuffer);
            if (kind == NormKind.Frobenius)
                device.Axpby(T.CreateChecked(-gamma * inner / (s * s * s)), v.Value, T.One, v.GradBuffer, v.GradBuffer);
            else
                device.Axpby(T.CreateChecked(-gamma * inner / (s * s)), direction!, T.One, v.GradBuffer, v.GradBuffer);
        });
        return y;
    }

    /// <summary>The one element of a device tensor, on the host (into a stack buffer: no allocation).</summary>
    private static double ReadScalar<T>(Tensor<T> scalar) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<T> host = stackalloc T[1];
        scalar.CopyTo(host);
        return double.CreateChecked(host[0]);
    }

    /// <summary>x ← x/||x|| for a [1, n] vector; returns ||x||.</summary>
    private static double Normalise<T>(Tensor<T> x, Tensor<T> scratch) where T : unmanaged, IFloatingPointIeee754<T>
    {
        x.Device.RowReduce(RowReduction.SquaredNorm, x, null, scratch);
        double norm = Math.Sqrt(ReadScalar(scratch));
        if (norm > 0) x.Device.Axpby(T.CreateChecked(1 / norm), x, T.Zero, x, x);
        return norm;
    }
}
