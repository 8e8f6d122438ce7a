namespace OptEq.Autodiff;

/// <summary>
/// The differentiable primitives. Each op computes its value with device kernels and records a backward rule that adds
/// into its inputs' gradients (only for inputs that need one). One file per family of ops.
/// </summary>
public static partial class Ops
{
    /// <summary>target += source (same shape).</summary>
    internal static void Accumulate<T>(Tensor<T> target, Tensor<T> source) where T : unmanaged, IFloatingPointIeee754<T>
        => target.Device.Axpby(T.One, source, T.One, target, target);

    /// <summary>
    /// target += s·source where s is a one-element device tensor, without reading s on the host: a k = 1 GEMM of
    /// source viewed as [n, 1] with s as [1, 1]. Used where a scalar's gradient flows back into a tensor. The views are
    /// made once per backward rule (a replayed rule then allocates nothing).
    /// </summary>
    internal sealed class ScaledAccumulation<T>(Tensor<T> target, Tensor<T> scalar, Tensor<T> source) where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Tensor<T> _target = target.Reshape(-1, 1), _scalar = scalar.Reshape(1, 1), _source = source.Reshape(-1, 1);

        public void Run() => _target.Device.Gemm(MatrixOp.None, MatrixOp.None, T.One, _source, _scalar, T.One, _target);
    }

    private static Tape<T> TapeOf<T>(Variable<T> a, Variable<T> b) where T : unmanaged, IFloatingPointIeee754<T>
        => ReferenceEquals(a.Tape, b.Tape) ? a.Tape : throw new ArgumentException("the operands belong to different tapes");

    private static void SameShape<T>(string op, Variable<T> a, Variable<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!a.Shape.AsSpan().SequenceEqual(b.Shape))
            throw new ShapeException($"{op}: shapes differ, [{string.Join(", ", a.Shape)}] and [{string.Join(", ", b.Shape)}]");
    }
}
