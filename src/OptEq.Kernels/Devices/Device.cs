using System.Numerics;
using OptEq.Kernels.Activations;

namespace OptEq.Kernels;

/// <summary>
/// A place where tensors live and kernels run: the native CPU backend or an ILGPU accelerator.
/// Public kernel methods validate shapes and strides, then call the backend's <c>…Core</c> method;
/// so every backend rejects bad input the same way, before any kernel runs. Kernels are asynchronous
/// on accelerators: <see cref="Synchronize"/> waits, and host copies synchronise by themselves.
/// </summary>
public abstract partial class Device : IDisposable
{
    protected Device(DeviceInfo info)
    {
        Info = info;
        Pool = new TensorPool(this);
    }

    public DeviceInfo Info { get; }
    public string Id => Info.Id;
    public string Name => Info.Name;
    public DeviceKind Kind => Info.Kind;
    /// <summary>Reusable buffers, so that solver loops allocate nothing after their first iteration.</summary>
    public TensorPool Pool { get; }

    public override string ToString() => $"{Id} ({Name})";

    // ---- memory -------------------------------------------------------------------------------------

    protected internal abstract Storage<T> CreateStorage<T>(long length) where T : unmanaged;

    /// <summary>A new zero-filled contiguous tensor.</summary>
    public Tensor<T> Allocate<T>(params int[] shape) where T : unmanaged
    {
        var s = ShapeUtil.Validate(shape);
        var storage = CreateStorage<T>(ShapeUtil.Count(s));
        return new Tensor<T>(storage, 0, s, ShapeUtil.RowMajorStrides(s), ownsStorage: true);
    }

    /// <summary>A new tensor holding a copy of <paramref name="data"/>.</summary>
    public Tensor<T> FromArray<T>(ReadOnlySpan<T> data, params int[] shape) where T : unmanaged
    {
        var t = Allocate<T>(shape);
        t.CopyFrom(data);
        return t;
    }

    /// <summary>Waits until every queued kernel has finished.</summary>
    public abstract void Synchronize();

    public virtual void Dispose()
    {
        Pool.Dispose();
        GC.SuppressFinalize(this);
    }

    // ---- kernels: validation here, work in the backends --------------------------------------------

    /// <summary>dst ← src (same shape, any matrix-like strides).</summary>
    public void Copy<T>(Tensor<T> src, Tensor<T> dst) where T : unmanaged
    {
        var (rows, cols) = SameMatrixShape("copy", src, dst);
        CopyCore(rows, cols, src.Storage, Layout(src), dst.Storage, Layout(dst));
    }

    /// <summary>Every element of <paramref name="x"/> ← <paramref name="value"/>.</summary>
    public void Fill<T>(Tensor<T> x, T value) where T : unmanaged
    {
        CheckMatrix("fill", "x", x);
        FillCore(x.Rows, x.Cols, x.Storage, Layout(x), value);
    }

    /// <summary>
    /// C ← α·op(A)·op(B) + β·C. Operands are matrices (rank 2) or strided batches (rank 3, [batch, rows, cols]);
    /// with a batched C, a rank-2 A or B is shared by every batch. When β is zero, C is not read (NaN in C does not leak).
    /// </summary>
    public void Gemm<T>(MatrixOp opA, MatrixOp opB, T alpha, Tensor<T> a, Tensor<T> b, T beta, Tensor<T> c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckSameDevice("gemm", a, b, c);
        if (c.Rank is not (2 or 3)) throw new ShapeException($"gemm: C must have rank 2 or 3, got shape {ShapeUtil.Format(c.Shape)}");
        int batch = c.Rank == 3 ? c.Shape[0] : 1;
        var (ar, ac, la) = GemmOperand("A", a, batch, c.Rank);
        var (br, bc, lb) = GemmOperand("B", b, batch, c.Rank);
        var (m, n, lc) = GemmOperand("C", c, batch, c.Rank);
        int am = opA == MatrixOp.None ? ar : ac, ak = opA == MatrixOp.None ? ac : ar;
        int bk = opB == MatrixOp.None ? br : bc, bn = opB == MatrixOp.None ? bc : br;
        if (am != m || bn != n || ak != bk)
            throw new ShapeException(
                $"gemm: op(A) is {am}×{ak} (A {ShapeUtil.Format(a.Shape)}, {opA}), op(B) is {bk}×{bn} (B {ShapeUtil.Format(b.Shape)}, {opB}), " +
                $"C is {m}×{n}: need op(A) m×k, op(B) k×n, C m×n");
        if (m == 0 || n == 0 || batch == 0) return;
        GemmCore(opA, opB, m, n, ak, batch, alpha, a.Storage, la, b.Storage, lb, beta, c.Storage, lc);
    }

    /// <summary>y[i, j] ← x[i, j] + bias[j] (bias broadcast over rows; y may be x).</summary>
    public void AddBias<T>(Tensor<T> x, Tensor<T> bias, Tensor<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckSameDevice("add-bias", x, bias, y);
        var (rows, cols) = SameMatrixShape("add-bias", x, y);
        if (bias.Length != cols || !bias.IsContiguous)
            throw new ShapeException($"add-bias: bias must be contiguous with {cols} elements (one per column of x {ShapeUtil.Format(x.Shape)}), got {ShapeUtil.Format(bias.Shape)}");
        AddBiasCore(rows, cols, x.Storage, Layout(x), bias.Storage, bias.Offset, y.Storage, Layout(y));
    }

    /// <summary>result ← α·x + β·y, elementwise (result may be x or y). When β is zero, y is not read.</summary>
    public void Axpby<T>(T alpha, Tensor<T> x, T beta, Tensor<T> y, Tensor<T> result) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckSameDevice("axpby", x, y, result);
        SameMatrixShape("axpby", x, y);
        var (rows, cols) = SameMatrixShape("axpby", x, result);
        AxpbyCore(rows, cols, alpha, x.Storage, Layout(x), beta, y.Storage, Layout(y), result.Storage, Layout(result));
    }

    /// <summary>
    /// One pass over v: value ← σ(v), and where given, derivative ← σ′(v) and penalty ← f(σ(v)).
    /// Outputs have v's shape; value may be v itself.
    /// </summary>
    public void Prox<T>(Activation activation, Tensor<T> v, Tensor<T> value, Tensor<T>? derivative = null, Tensor<T>? penalty = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(activation);
        CheckSameDevice("prox", v, value, derivative ?? value, penalty ?? value);
        var (rows, cols) = SameMatrixShape("prox", v, value);
        if (derivative is not null) SameMatrixShape("prox (derivative)", v, derivative);
        if (penalty is not null) SameMatrixShape("prox (penalty)", v, penalty);
        var launch = new ProxLaunch<T>(this, rows, cols, v, value, derivative, penalty);
        activation.Accept<T, ProxLaunch<T>>(ref launch);
    }

    /// <summary>result[i] ← reduction over row i of x (and y for Dot and SquaredDistance). result has one element per row.</summary>
    public void RowReduce<T>(RowReduction reduction, Tensor<T> x, Tensor<T>? y, Tensor<T> result) where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool needsY = reduction is RowReduction.Dot or RowReduction.SquaredDistance;
        if (needsY && y is null) throw new ArgumentException($"row-reduce {reduction}: needs a second tensor y");
        CheckSameDevice("row-reduce", x, y ?? x, result);
        var (rows, cols) = CheckMatrix("row-reduce", "x", x);
        if (needsY) SameMatrixShape("row-reduce", x, y!);
        if (result.Length != rows || !result.IsContiguous)
            throw new ShapeException($"row-reduce: result must be contiguous with {rows} elements (one per row of x {ShapeUtil.Format(x.Shape)}), got {ShapeUtil.Format(result.Shape)}");
        var ly = y is null ? Layout(x) : Layout(y);
        RowReduceCore(reduction, rows, cols, x.Storage, Layout(x), (y ?? x).Storage, ly, result.Storage, result.Offset);
    }

    /// <summary>
    /// Per row: loss[i] ← −log softmax(logits[i])[labels[i]]; where given, gradient[i] ← scale·(softmax(logits[i]) − onehot(labels[i])).
    /// A label outside [0, classes) gives a NaN loss for that row (labels are validated when data is loaded).
    /// </summary>
    public void SoftmaxCrossEntropy<T>(Tensor<T> logits, Tensor<int> labels, Tensor<T> loss, Tensor<T>? gradient, T gradientScale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckSameDevice("softmax-cross-entropy", logits, loss, gradient ?? logits);
        if (labels.Device != this) throw new ArgumentException("softmax-cross-entropy: labels live on another device");
        var (rows, cols) = CheckMatrix("softmax-cross-entropy", "logits", logits);
        if (labels.Length != rows || !labels.IsContiguous)
            throw new ShapeException($"softmax-cross-entropy: labels must be contiguous with {rows} elements (one per row of logits {ShapeUtil.Format(logits.Shape)}), got {ShapeUtil.Format(labels.Shape)}");
        if (loss.Length != rows || !loss.IsContiguous)
            throw new ShapeException($"softmax-cross-entropy: loss must be contiguous with {rows} elements, got {ShapeUtil.Format(loss.Shape)}");
        if (gradient is not null) SameMatrixShape("softmax-cross-entropy (gradient)", logits, gradient);
        var lg = gradient is null ? Layout(logits) : Layout(gradient);
        SoftmaxCrossEntropyCore(rows, cols, logits.Storage, Layout(logits), labels.Storage, labels.Offset, loss.Storage, loss.Offset,
            gradient?.Storage, lg, gradientScale);
    }

    /// <summary>
    /// Solves A[s]·x[s] = b[s] for every sample s by Gaussian elimination with partial pivoting (LAPACK gesv semantics:
    /// A and b are overwritten; x may be b). a: [batch, n, n], b and x: [batch, n], status: [batch] with 0 = solved,
    /// 1 = singular or non-finite (x[s] is then left as b[s]'s partly eliminated values and must not be used).
    /// </summary>
    private static void CheckSolveVectors<T>(string name, Tensor<T> t, int batch, int n) where T : unmanaged
    {
        if (t.Rank != 2 || t.Shape[0] != batch || t.Shape[1] != n || !t.IsContiguous)
            throw new ShapeException($"batched-solve: {name} must be a contiguous [{batch}, {n}] tensor, got {ShapeUtil.Format(t.Shape)}");
    }

    public void BatchedSolve<T>(Tensor<T> a, Tensor<T> b, Tensor<T> x, Tensor<int> status) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckSameDevice("batched-solve", a, b, x);
        if (status.Device != this) throw new ArgumentException("batched-solve: status lives on another device");
        if (a.Rank != 3 || a.Shape[1] != a.Shape[2] || !a.IsContiguous)
            throw new ShapeException($"batched-solve: A must be a contiguous [batch, n, n] tensor, got {ShapeUtil.Format(a.Shape)}");
        int batch = a.Shape[0], n = a.Shape[1];
        if (n > MaxBatchedSolveSize)
            throw new ShapeException($"batched-solve: n = {n} exceeds the supported {MaxBatchedSolveSize} (the solver is for small systems, one per sample)");
        CheckSolveVectors("b", b, batch, n); // not a loop over a new array: Anderson calls this every iteration
        CheckSolveVectors("x", x, batch, n);
        if (status.Length != batch || !status.IsContiguous)
            throw new ShapeException($"batched-solve: status must be contiguous with {batch} elements, got {ShapeUtil.Format(status.Shape)}");
        if (batch == 0 || n == 0) return;
        BatchedSolveCore(batch, n, a.Storage, a.Offset, b.Storage, b.Offset, x.Storage, x.Offset, status.Storage, status.Offset);
    }

    /// <summary>Largest n accepted by <see cref="BatchedSolve{T}"/>.</summary>
    public const int MaxBatchedSolveSize = 64;

    /// <summary>result ← aᵀ for a matrix a [m, n] and result [n, m] (distinct storage regions).</summary>
    public void Transpose<T>(Tensor<T> a, Tensor<T> result) where T : unmanaged
    {
        CheckSameDevice("transpose", a, result, result);
        if (a.Rank != 2 || result.Rank != 2 || result.Shape[0] != a.Shape[1] || result.Shape[1] != a.Shape[0])
            throw new ShapeException($"transpose: result must be [{(a.Rank == 2 ? a.Shape[1] : -1)}, {(a.Rank == 2 ? a.Shape[0] : -1)}] for a of shape {ShapeUtil.Format(a.Shape)}, got {ShapeUtil.Format(result.Shape)}");
        CheckMatrix("transpose", "a", a);
        CheckMatrix("transpose", "result", result);
        if (ReferenceEquals(a.Storage, result.Storage) && Overlaps(a, result))
            throw new ArgumentException("transpose: a and result overlap; transpose is out of place");
        TransposeCore(a.Shape[0], a.Shape[1], a.Storage, Layout(a), result.Storage, Layout(result));
    }

    // ---- what a backend implements ----------------------------------------------------------------

    protected abstract void CopyCore<T>(int rows, int cols, Storage<T> src, MatrixLayout ls, Storage<T> dst, MatrixLayout ld) where T : unmanaged;
    protected abstract void FillCore<T>(int rows, int cols, Storage<T> x, MatrixLayout lx, T value) where T : unmanaged;
    protected abstract void GemmCore<T>(MatrixOp opA, MatrixOp opB, int m, int n, int k, int batch, T alpha,
        Storage<T> a, MatrixLayout la, Storage<T> b, MatrixLayout lb, T beta, Storage<T> c, MatrixLayout lc) where T : unmanaged, IFloatingPointIeee754<T>;
    protected abstract void AddBiasCore<T>(int rows, int cols, Storage<T> x, MatrixLayout lx, Storage<T> bias, long biasOffset, Storage<T> y, MatrixLayout ly)
        where T : unmanaged, IFloatingPointIeee754<T>;
    protected abstract void AxpbyCore<T>(int rows, int cols, T alpha, Storage<T> x, MatrixLayout lx, T beta, Storage<T> y, MatrixLayout ly, Storage<T> result, MatrixLayout lr)
        where T : unmanaged, IFloatingPointIeee754<T>;
    protected internal abstract void ProxCore<T, TAct>(TAct activation, int rows, int cols, Storage<T> v, MatrixLayout lv, Storage<T> value, MatrixLayout lval,
        Storage<T>? derivative, MatrixLayout lder, Storage<T>? penalty, MatrixLayout lpen)
        where T : unmanaged, IFloatingPointIeee754<T> where TAct : struct, IProxActivation<T>;
    protected abstract void RowReduceCore<T>(RowReduction reduction, int rows, int cols, Storage<T> x, MatrixLayout lx, Storage<T> y, MatrixLayout ly, Storage<T> result, long resultOffset)
        where T : unmanaged, IFloatingPointIeee754<T>;
    protected abstract void SoftmaxCrossEntropyCore<T>(int rows, int cols, Storage<T> logits, MatrixLayout ll, Storage<int> labels, long labelsOffset,
        Storage<T> loss, long lossOffset, Storage<T>? gradient, MatrixLayout lg, T gradientScale) where T : unmanaged, IFloatingPointIeee754<T>;
    protected abstract void BatchedSolveCore<T>(int batch, int n, Storage<T> a, long aOffset, Storage<T> b, long bOffset, Storage<T> x, long xOffset,
        Storage<int> status, long statusOffset) where T : unmanaged, IFloatingPointIeee754<T>;
    protected abstract void TransposeCore<T>(int m, int n, Storage<T> a, MatrixLayout la, Storage<T> result, MatrixLayout lr) where T : unmanaged;

    // ---- validation helpers -----------------------------------------------------------------------

    protected static MatrixLayout Layout<T>(Tensor<T> t) where T : unmanaged => new(t.Offset, t.RowStride, 0);

    private void CheckSameDevice<T>(string op, params ReadOnlySpan<Tensor<T>> tensors) where T : unmanaged
    {
        foreach (var t in tensors)
        {
            if (t.Device != this) throw new ArgumentException($"{op}: a tensor lives on {t.Device.Id}, not on {Id}");
            t.EnsureAlive();
        }
    }

    private static (int Rows, int Cols) CheckMatrix<T>(string op, string name, Tensor<T> t) where T : unmanaged
    {
        if (!t.IsMatrixLike)
            throw new ShapeException($"{op}: {name} of shape {ShapeUtil.Format(t.Shape)} with strides [{string.Join(", ", t.Strides)}] needs unit stride in its last dimension and a uniform row stride");
        return (t.Rows, t.Cols);
    }

    private static (int Rows, int Cols) SameMatrixShape<T>(string op, Tensor<T> a, Tensor<T> b) where T : unmanaged
    {
        if (!a.Shape.AsSpan().SequenceEqual(b.Shape))
            throw new ShapeException($"{op}: shapes differ, {ShapeUtil.Format(a.Shape)} and {ShapeUtil.Format(b.Shape)}");
        CheckMatrix(op, "first operand", a);
        return CheckMatrix(op, "second operand", b);
    }

    private static (int Rows, int Cols, MatrixLayout Layout) GemmOperand<T>(string name, Tensor<T> t, int batch, int cRank) where T : unmanaged
    {
        if (t.Rank == 2 || (t.Rank == 3 && cRank == 3))
        {
            if (t.Rank == 3 && t.Shape[0] != batch)
                throw new ShapeException($"gemm: {name} has batch {t.Shape[0]}, C has batch {batch}");
            int rows = t.Shape[^2], cols = t.Shape[^1];
            if (cols > 1 && t.Strides[^1] != 1)
                throw new ShapeException($"gemm: {name} of shape {ShapeUtil.Format(t.Shape)} needs unit stride in its last dimension (use MatrixOp.Transpose instead of a transposed view)");
            long ld = rows > 1 ? t.Strides[^2] : Math.Max(1, cols);
            if (ld < cols) throw new ShapeException($"gemm: {name} has row stride {ld} < its {cols} columns");
            long batchStride = t.Rank == 3 ? t.Strides[0] : 0;
            return (rows, cols, new MatrixLayout(t.Offset, ld, batchStride));
        }
        throw new ShapeException($"gemm: {name} must have rank 2{(cRank == 3 ? " or 3" : "")}, got shape {ShapeUtil.Format(t.Shape)}");
    }

    private static bool Overlaps<T>(Tensor<T> a, Tensor<T> b) where T : unmanaged
        => a.Offset < b.Offset + b.Span && b.Offset < a.Offset + a.Span;

    /// <summary>Turns the activation descriptor into its struct and calls the backend's generic prox kernel.</summary>
    private readonly struct ProxLaunch<T>(Device device, int rows, int cols, Tensor<T> v, Tensor<T> value, Tensor<T>? derivative, Tensor<T>? penalty)
        : IActivationConsumer<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Consume<TAct>(TAct activation) where TAct : struct, IProxActivation<T>
            => device.ProxCore(activation, rows, cols, v.Storage, Layout(v), value.Storage, Layout(value),
                derivative?.Storage, derivative is null ? default : Layout(derivative),
                penalty?.Storage, penalty is null ? default : Layout(penalty));
    }
}
