using System.Numerics;

namespace OptEq.Kernels;

/// <summary>
/// Anderson acceleration's per-iteration kernels (docs/math.md §4.2), each fused into one pass: the update writes the new
/// iterate and residual into the ring buffers, adds one row (and column) to every sample's Gram matrix and yields the
/// residual norms the convergence tracker needs; the system builds the bordered least-squares systems from the Gram
/// matrices; the mix forms the next iterate, with the fallback and the freeze of stopped samples folded in. The Gram
/// matrix is never recomputed: each iteration adds the m dot products of the new residual instead of the m² of a full product.
/// </summary>
public static class AndersonExtensions
{
    /// <summary>
    /// For every sample b, with r = fz[b] − z[b] and s = <paramref name="slot"/>:
    /// iterates[b, s] ← z[b]; residuals[b, s] ← r; gram[b, s, j] = gram[b, j, s] ← ⟨r, residuals[b, j]⟩ for j &lt; used
    /// (slots j ≠ s keep their earlier residuals); absSquared[b] ← ||r||²; normSquared[b] ← ||fz[b]||².
    /// iterates and residuals are contiguous [batch, m, d], gram contiguous [batch, m, m].
    /// </summary>
    public static void AndersonUpdate<T>(this Device device, Tensor<T> z, Tensor<T> fz, Tensor<T> iterates, Tensor<T> residuals, Tensor<T> gram, int slot, int used,
        Tensor<T> absSquared, Tensor<T> normSquared) where T : unmanaged, IFloatingPointIeee754<T>
    {
        device.CheckSameDevice("anderson-update", z, fz, iterates, residuals, gram, absSquared, normSquared);
        var (batch, d) = Checks.SameMatrixShape("anderson-update", z, fz);
        if (iterates.Rank != 3 || iterates.Shape[0] != batch || iterates.Shape[2] != d || !iterates.IsContiguous)
            throw new ShapeException($"anderson-update: iterates must be a contiguous [{batch}, m, {d}] tensor, got {ShapeUtil.Format(iterates.Shape)}");
        int m = iterates.Shape[1];
        if (!residuals.Shape.AsSpan().SequenceEqual(iterates.Shape) || !residuals.IsContiguous)
            throw new ShapeException($"anderson-update: residuals must be a contiguous [{batch}, {m}, {d}] tensor like iterates, got {ShapeUtil.Format(residuals.Shape)}");
        if (gram.Rank != 3 || gram.Shape[0] != batch || gram.Shape[1] != m || gram.Shape[2] != m || !gram.IsContiguous)
            throw new ShapeException($"anderson-update: gram must be a contiguous [{batch}, {m}, {m}] tensor, got {ShapeUtil.Format(gram.Shape)}");
        Checks.RowVector("anderson-update", "absSquared", absSquared, batch);
        Checks.RowVector("anderson-update", "normSquared", normSquared, batch);
        CheckSlots("anderson-update", slot, used, m);
        if (batch == 0) return;
        device.Family<IAndersonBackend>().Update(new AndersonShape(batch, m, d, slot, used), MatrixView<T>.Of(z), MatrixView<T>.Of(fz), Ring(iterates, residuals),
            MatrixView<T>.Vector(gram), MatrixView<T>.Vector(absSquared), MatrixView<T>.Vector(normSquared));
    }

    /// <summary>
    /// z[b] ← Σ_{i &lt; used} α[b, i]·(iterates[b, i] + β·residuals[b, i]) where the sample is active and its small solve
    /// succeeded (status[b] = 0); fz[b] (a plain step) where it is active and the solve failed; unchanged where the sample
    /// has stopped. solutions is [batch, m + 1], the solved bordered systems [ν; α] (α is columns 1…m); status and active
    /// are [batch].
    /// </summary>
    public static void AndersonMix<T>(this Device device, Tensor<T> solutions, Tensor<int> status, Tensor<T> active, Tensor<T> iterates, Tensor<T> residuals, Tensor<T> fz,
        T beta, int used, Tensor<T> z) where T : unmanaged, IFloatingPointIeee754<T>
    {
        device.CheckSameDevice("anderson-mix", solutions, active, iterates, residuals, fz, z);
        if (status.Device != device) throw new ArgumentException($"anderson-mix: status lives on {status.Device.Id}, not on {device.Id}");
        var (batch, d) = Checks.SameMatrixShape("anderson-mix", fz, z);
        if (iterates.Rank != 3 || iterates.Shape[0] != batch || iterates.Shape[2] != d || !iterates.IsContiguous)
            throw new ShapeException($"anderson-mix: iterates must be a contiguous [{batch}, m, {d}] tensor, got {ShapeUtil.Format(iterates.Shape)}");
        int m = iterates.Shape[1];
        if (!residuals.Shape.AsSpan().SequenceEqual(iterates.Shape) || !residuals.IsContiguous)
            throw new ShapeException($"anderson-mix: residuals must be a contiguous [{batch}, {m}, {d}] tensor like iterates, got {ShapeUtil.Format(residuals.Shape)}");
        if (solutions.Rank != 2 || solutions.Shape[0] != batch || solutions.Shape[1] != m + 1 || solutions.Strides[1] != 1)
            throw new ShapeException($"anderson-mix: solutions must be [{batch}, {m + 1}] ([ν; α] per sample) with unit column stride, got {ShapeUtil.Format(solutions.Shape)}");
        var alpha = new MatrixView<T>(solutions.Storage, new MatrixLayout(solutions.Offset + 1, solutions.RowStride, 0)); // α: columns 1…m
        Checks.RowVector("anderson-mix", "status", status, batch);
        Checks.RowVector("anderson-mix", "active", active, batch);
        CheckSlots("anderson-mix", 0, used, m);
        Checks.NoOverlap("anderson-mix", "iterates", iterates, z);
        Checks.NoOverlap("anderson-mix", "residuals", residuals, z);
        if (batch == 0) return;
        device.Family<IAndersonBackend>().Mix(new AndersonShape(batch, m, d, 0, used), alpha, MatrixView<int>.Vector(status), MatrixView<T>.Vector(active),
            Ring(iterates, residuals), MatrixView<T>.Of(fz), beta, MatrixView<T>.Of(z));
    }

    /// <summary>
    /// Builds Anderson's bordered systems [0 1ᵀ; 1 H + λ·(tr H / n)·I]·[ν; α] = [1; 0] per sample, from the Gram matrices
    /// gram [batch, m, m] of the last residuals, of which the first <paramref name="used"/> slots hold data. Unused slots
    /// become identity rows with a zero right-hand side, so their weight is 0. The ridge is relative to the mean
    /// diagonal, so it does not swamp H when residuals are small (a choice, docs/math.md §4.2).
    /// system: [batch, m+1, m+1], rhs: [batch, m+1] (contiguous; ready for <see cref="BatchedSolveExtensions.BatchedSolve{T}"/>).
    /// </summary>
    public static void AndersonSystem<T>(this Device device, Tensor<T> gram, int used, T ridge, Tensor<T> system, Tensor<T> rhs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        device.CheckSameDevice("anderson-system", gram, system, rhs);
        if (gram.Rank != 3 || gram.Shape[1] != gram.Shape[2] || !gram.IsContiguous)
            throw new ShapeException($"anderson-system: gram must be a contiguous [batch, m, m] tensor, got {ShapeUtil.Format(gram.Shape)}");
        int batch = gram.Shape[0], m = gram.Shape[1];
        if (used < 1 || used > m) throw new ArgumentOutOfRangeException(nameof(used), used, $"anderson-system: used slots must be in [1, {m}]");
        if (system.Rank != 3 || system.Shape[0] != batch || system.Shape[1] != m + 1 || system.Shape[2] != m + 1 || !system.IsContiguous)
            throw new ShapeException($"anderson-system: system must be a contiguous [{batch}, {m + 1}, {m + 1}] tensor, got {ShapeUtil.Format(system.Shape)}");
        if (rhs.Rank != 2 || rhs.Shape[0] != batch || rhs.Shape[1] != m + 1 || !rhs.IsContiguous)
            throw new ShapeException($"anderson-system: rhs must be a contiguous [{batch}, {m + 1}] tensor, got {ShapeUtil.Format(rhs.Shape)}");
        device.Family<IAndersonBackend>().BorderedSystem(new AndersonShape(batch, m, 0, 0, used), ridge, MatrixView<T>.Vector(gram), MatrixView<T>.Vector(system), MatrixView<T>.Vector(rhs));
    }

    private static AndersonRing<T> Ring<T>(Tensor<T> iterates, Tensor<T> residuals) where T : unmanaged
        => new(MatrixView<T>.Vector(iterates), MatrixView<T>.Vector(residuals));

    private static void CheckSlots(string op, int slot, int used, int m)
    {
        if (used < 1 || used > m) throw new ArgumentOutOfRangeException(nameof(used), used, $"{op}: used slots must be in [1, {m}]");
        if (slot < 0 || slot >= used) throw new ArgumentOutOfRangeException(nameof(slot), slot, $"{op}: the slot must be one of the {used} used slots");
    }
}

/// <summary>Anderson's ring buffers: the last m iterates and residuals per sample, each contiguous [batch, m, d].</summary>
internal readonly record struct AndersonRing<T>(MatrixView<T> Iterates, MatrixView<T> Residuals) where T : unmanaged;

/// <summary>What a backend implements for the Anderson family. Arrays of the ring, Gram matrices and systems are contiguous.</summary>
internal interface IAndersonBackend
{
    void Update<T>(AndersonShape shape, MatrixView<T> z, MatrixView<T> fz, AndersonRing<T> ring, MatrixView<T> gram, MatrixView<T> absSquared, MatrixView<T> normSquared)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>alpha: the weights α (row stride per sample); status and active: one entry per sample.</summary>
    void Mix<T>(AndersonShape shape, MatrixView<T> alpha, MatrixView<int> status, MatrixView<T> active, AndersonRing<T> ring, MatrixView<T> fz, T beta, MatrixView<T> z)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The bordered systems for shape.Batch samples of shape.Memory slots, shape.Used of which hold data.</summary>
    void BorderedSystem<T>(AndersonShape shape, T ridge, MatrixView<T> gram, MatrixView<T> system, MatrixView<T> rhs) where T : unmanaged, IFloatingPointIeee754<T>;
}
