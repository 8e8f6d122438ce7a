namespace OptEq.Solvers.Operators;

/// <summary>
/// The multi-tier block operator of deep OptEq (docs/math.md §1.8): the state z = (z₁, …, z_L) is the tiers' NCHW
/// images laid side by side in one row per sample (tier i: C_i channels at H_i×W_i, H_{i+1} = ⌈H_i/2⌉), and W is
/// lower block-bidiagonal, (W z)_i = D_i∗z_i + S_i∗z_{i−1}: D_i a size-preserving k×k convolution C_i → C_i, S_i a
/// stride-2 k×k convolution C_{i−1} → C_i (none for tier 1). Every block runs through the convolution kernels on
/// column slices of the rows, so nothing is gathered or copied. Weights are ordered D_1 … D_L, S_2 … S_L.
/// </summary>
public sealed class MultiTierOperator<T> : IParameterisedOperator<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Conv2dGeometry[] _diagonal, _below;
    private readonly int[] _starts, _sizes;
    private readonly Tensor<T>[] _weights;
    private readonly ColumnViewCache<T> _views;

    /// <param name="tiers">The tiers' geometry (<see cref="MultiTierGeometry.Build"/>).</param>
    /// <param name="weights">D_1 … D_L ([C_i, C_i·k²]) then S_2 … S_L ([C_i, C_{i−1}·k²]).</param>
    public MultiTierOperator(MultiTierGeometry tiers, IReadOnlyList<Tensor<T>> weights)
    {
        ArgumentNullException.ThrowIfNull(tiers);
        ArgumentNullException.ThrowIfNull(weights);
        int l = tiers.Diagonal.Count;
        if (weights.Count != 2 * l - 1)
            throw new ArgumentException($"a multi-tier operator with {l} tiers reads {2 * l - 1} weights (D_1…D_{l}, S_2…S_{l}), got {weights.Count}");
        _diagonal = [.. tiers.Diagonal];
        _below = [.. tiers.Below];
        _weights = [.. weights];
        for (int i = 0; i < _weights.Length; i++)
        {
            var g = i < l ? _diagonal[i] : _below[i - l];
            var w = _weights[i];
            if (w.Rank != 2 || w.Shape[0] != g.OutChannels || w.Shape[1] != g.WeightColumns)
                throw new ShapeException($"multi-tier operator: weight {i} must be [{g.OutChannels}, {g.WeightColumns}], got [{string.Join(", ", w.Shape)}]");
        }
        Tiers = tiers;
        _starts = [.. tiers.Starts];
        _sizes = [.. tiers.Sizes];
        Weights = _weights;
        _views = new ColumnViewCache<T>(_starts, _sizes, tiers.Size);
    }

    public MultiTierGeometry Tiers { get; }
    public IReadOnlyList<Tensor<T>> Weights { get; }
    public Device Device => _weights[0].Device;
    public int InputSize => Tiers.Size;
    public int OutputSize => Tiers.Size;
    private int Count => _diagonal.Length;

    /// <summary>result_i ← D_i∗v_i + S_i∗v_{i−1} + β·result_i.</summary>
    public void Apply(Tensor<T> v, Tensor<T> result, T beta)
    {
        var vs = _views.Of(v);
        var rs = _views.Of(result);
        for (int i = 0; i < Count; i++)
        {
            Device.Conv2d(_diagonal[i], vs[i], _weights[i], null, rs[i], beta);
            if (i > 0) Device.Conv2d(_below[i - 1], vs[i - 1], _weights[Count + i - 1], null, rs[i], T.One);
        }
    }

    /// <summary>result_i ← D_iᵀ v_i + S_{i+1}ᵀ v_{i+1} + β·result_i (transposed convolutions).</summary>
    public void ApplyTranspose(Tensor<T> v, Tensor<T> result, T beta)
    {
        var vs = _views.Of(v);
        var rs = _views.Of(result);
        for (int i = 0; i < Count; i++)
        {
            Device.Conv2dBackwardInput(_diagonal[i], vs[i], _weights[i], rs[i], beta);
            if (i + 1 < Count) Device.Conv2dBackwardInput(_below[i], vs[i + 1], _weights[Count + i], rs[i], T.One);
        }
    }

    /// <summary>gradients[D_i] += convW(input_i, gradOutput_i); gradients[S_i] += convW(input_{i−1}, gradOutput_i).</summary>
    public void AccumulateWeightGradients(Tensor<T> input, Tensor<T> gradOutput, IReadOnlyList<Tensor<T>> gradients)
    {
        var xs = _views.Of(input);
        var gs = _views.Of(gradOutput);
        for (int i = 0; i < Count; i++)
        {
            Device.Conv2dBackwardWeight(_diagonal[i], xs[i], gs[i], gradients[i], T.One);
            if (i > 0) Device.Conv2dBackwardWeight(_below[i - 1], xs[i - 1], gs[i], gradients[Count + i - 1], T.One);
        }
    }
}

/// <summary>
/// The tiers of a multi-tier state: the diagonal convolutions D_i (C_i → C_i at H_i×W_i, stride 1, padding k/2), the
/// stride-2 convolutions S_i (C_{i−1} at H_{i−1}×W_{i−1} → C_i at ⌈H_{i−1}/2⌉×⌈W_{i−1}/2⌉, zero padding k/2), and where
/// each tier starts in a row.
/// </summary>
public sealed record MultiTierGeometry
{
    private MultiTierGeometry(Conv2dGeometry[] diagonal, Conv2dGeometry[] below)
    {
        Diagonal = diagonal;
        Below = below;
        var starts = new int[diagonal.Length];
        var sizes = new int[diagonal.Length];
        int at = 0;
        for (int i = 0; i < diagonal.Length; i++) { starts[i] = at; sizes[i] = diagonal[i].InputSize; at = checked(at + sizes[i]); }
        Starts = starts;
        Sizes = sizes;
        Size = at;
    }

    public IReadOnlyList<Conv2dGeometry> Diagonal { get; }
    /// <summary>S_2 … S_L (index i − 2 for S_i).</summary>
    public IReadOnlyList<Conv2dGeometry> Below { get; }
    /// <summary>The column where each tier starts in a row.</summary>
    public IReadOnlyList<int> Starts { get; }
    /// <summary>C_i·H_i·W_i.</summary>
    public IReadOnlyList<int> Sizes { get; }
    /// <summary>Σ C_i·H_i·W_i: features per sample of the state.</summary>
    public int Size { get; }

    /// <summary>Tiers of the given channels, tier 1 at height×width; the diagonal blocks use <paramref name="padding"/>, the stride-2 blocks zero padding.</summary>
    public static MultiTierGeometry Build(IReadOnlyList<int> channels, int height, int width, int kernelSize, ConvPadding padding)
    {
        ArgumentNullException.ThrowIfNull(channels);
        if (channels.Count < 1) throw new ArgumentException("a multi-tier operator needs at least one tier");
        if (kernelSize < 1 || kernelSize % 2 == 0) throw new ArgumentOutOfRangeException(nameof(kernelSize), kernelSize, "the kernel size must be odd and ≥ 1 (same padding k/2)");
        int p = kernelSize / 2;
        var diagonal = new Conv2dGeometry[channels.Count];
        var below = new Conv2dGeometry[channels.Count - 1];
        int h = height, w = width;
        for (int i = 0; i < channels.Count; i++)
        {
            if (i > 0)
            {
                below[i - 1] = new Conv2dGeometry(channels[i - 1], h, w, channels[i], kernelSize, kernelSize, 2, p);
                h = below[i - 1].OutHeight;
                w = below[i - 1].OutWidth;
            }
            if (padding == ConvPadding.Circular && (p > h || p > w))
                throw new ShapeException($"multi-tier: tier {i + 1} is {h}×{w}, too small for circular padding {p}");
            diagonal[i] = new Conv2dGeometry(channels[i], h, w, channels[i], kernelSize, kernelSize, 1, p, padding);
        }
        return new MultiTierGeometry(diagonal, below);
    }
}

/// <summary>
/// Per-tier column views of [rows, Size] tensors, made on the first sight of a tensor and reused: the solvers pass the
/// same few buffers at every iteration and every replayed step, so an application allocates nothing once warm. A small
/// ring (evicting the oldest) bounds what it keeps.
/// </summary>
internal sealed class ColumnViewCache<T> where T : unmanaged
{
    private const int Capacity = 64;
    private readonly int[] _starts, _sizes;
    private readonly int _size;
    private readonly Entry[] _entries = new Entry[Capacity];
    private int _count, _next;

    public ColumnViewCache(int[] starts, int[] sizes, int size) { _starts = starts; _sizes = sizes; _size = size; }

    public Tensor<T>[] Of(Tensor<T> t)
    {
        if (t.Rank != 2 || t.Shape[1] != _size)
            throw new ShapeException($"multi-tier operator: rows must be [batch, {_size}], got [{string.Join(", ", t.Shape)}]");
        for (int i = 0; i < _count; i++)
        {
            var e = _entries[i];
            if (ReferenceEquals(e.Storage, t.Storage) && e.Offset == t.Offset && e.Rows == t.Shape[0] && e.RowStride == t.RowStride) return e.Views;
        }
        var views = new Tensor<T>[_starts.Length];
        for (int i = 0; i < views.Length; i++) views[i] = t.SliceColumns(_starts[i], _sizes[i]);
        _entries[_next] = new Entry(t.Storage, t.Offset, t.Shape[0], t.RowStride, views);
        _next = (_next + 1) % Capacity;
        _count = Math.Min(_count + 1, Capacity);
        return views;
    }

    private sealed record Entry(Storage<T> Storage, long Offset, int Rows, long RowStride, Tensor<T>[] Views);
}
