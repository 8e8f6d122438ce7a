using System.Numerics;

namespace OptEq.Kernels;

/// <summary>
/// Anderson acceleration's two per-iteration passes (MATH.md §4), each fused into one kernel: the update writes the new
/// iterate and residual into the ring buffers, adds one row (and column) to every sample's Gram matrix and yields the
/// residual norms the convergence tracker needs; the mix forms the next iterate, with the fallback and the freeze of
/// stopped samples folded in. The Gram matrix is never recomputed: each iteration adds the m dot products of the new
/// residual instead of the m² of a full product.
/// </summary>
public abstract partial class Device
{
    /// <summary>
    /// For every sample b, with r = fz[b] − z[b] and s = <paramref name="slot"/>:
    /// iterates[b, s] ← z[b]; residuals[b, s] ← r; gram[b, s, j] = gram[b, j, s] ← ⟨r, residuals[b, j]⟩ for j &lt; used
    /// (slots j ≠ s keep their earlier residuals); absSquared[b] ← ||r||²; normSquared[b] ← ||fz[b]||².
    /// iterates and residuals are contiguous [batch, m, d], gram contiguous [batch, m, m].
    /// </summary>
    public void AndersonUpdate<T>(Tensor<T> z, Tensor<T> fz, Tensor<T> iterates, Tensor<T> residuals, Tensor<T> gram, int slot, int used,
        Tensor<T> absSquared, Tensor<T> normSquared) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckSameDevice("anderson-update", z, fz, iterates, residuals, gram, absSquared, normSquared);
        var (batch, d) = SameMatrixShape("anderson-update", z, fz);
        if (iterates.Rank != 3 || iterates.Shape[0] != batch || iterates.Shape[2] != d || !iterates.IsContiguous)
            throw new ShapeException($"anderson-update: iterates must be a contiguous [{batch}, m, {d}] tensor, got {ShapeUtil.Format(iterates.Shape)}");
        int m = iterates.Shape[1];
        if (!residuals.Shape.AsSpan().SequenceEqual(iterates.Shape) || !residuals.IsContiguous)
            throw new ShapeException($"anderson-update: residuals must be a contiguous [{batch}, {m}, {d}] tensor like iterates, got {ShapeUtil.Format(residuals.Shape)}");
        if (gram.Rank != 3 || gram.Shape[0] != batch || gram.Shape[1] != m || gram.Shape[2] != m || !gram.IsContiguous)
            throw new ShapeException($"anderson-update: gram must be a contiguous [{batch}, {m}, {m}] tensor, got {ShapeUtil.Format(gram.Shape)}");
        CheckRowVector("anderson-update", "absSquared", absSquared, batch);
        CheckRowVector("anderson-update", "normSquared", normSquared, batch);
        CheckSlots("anderson-update", slot, used, m);
        if (batch == 0) return;
        AndersonUpdateCore(new AndersonShape(batch, m, d, slot, used), z.Storage, Layout(z), fz.Storage, Layout(fz), iterates.Storage, iterates.Offset,
            residuals.Storage, residuals.Offset, gram.Storage, gram.Offset, absSquared.Storage, absSquared.Offset, normSquared.Storage, normSquared.Offset);
    }

    /// <summary>
    /// z[b] ← Σ_{i &lt; used} α[b, i]·(iterates[b, i] + β·residuals[b, i]) where the sample is active and its small solve
    /// succeeded (status[b] = 0); fz[b] (a plain step) where it is active and the solve failed; unchanged where the sample
    /// has stopped. solutions is [batch, m + 1], the solved bordered systems [ν; α] (α is columns 1…m); status and active
    /// are [batch].
    /// </summary>
    public void AndersonMix<T>(Tensor<T> solutions, Tensor<int> status, Tensor<T> active, Tensor<T> iterates, Tensor<T> residuals, Tensor<T> fz,
        T beta, int used, Tensor<T> z) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckSameDevice("anderson-mix", solutions, active, iterates, residuals, fz, z);
        if (status.Device != this) throw new ArgumentException($"anderson-mix: status lives on {status.Device.Id}, not on {Id}");
        var (batch, d) = SameMatrixShape("anderson-mix", fz, z);
        if (iterates.Rank != 3 || iterates.Shape[0] != batch || iterates.Shape[2] != d || !iterates.IsContiguous)
            throw new ShapeException($"anderson-mix: iterates must be a contiguous [{batch}, m, {d}] tensor, got {ShapeUtil.Format(iterates.Shape)}");
        int m = iterates.Shape[1];
        if (!residuals.Shape.AsSpan().SequenceEqual(iterates.Shape) || !residuals.IsContiguous)
            throw new ShapeException($"anderson-mix: residuals must be a contiguous [{batch}, {m}, {d}] tensor like iterates, got {ShapeUtil.Format(residuals.Shape)}");
        if (solutions.Rank != 2 || solutions.Shape[0] != batch || solutions.Shape[1] != m + 1 || solutions.Strides[1] != 1)
            throw new ShapeException($"anderson-mix: solutions must be [{batch}, {m + 1}] ([ν; α] per sample) with unit column stride, got {ShapeUtil.Format(solutions.Shape)}");
        var lalpha = new MatrixLayout(solutions.Offset + 1, solutions.RowStride, 0); // α: columns 1…m
        CheckRowVector("anderson-mix", "status", status, batch);
        CheckRowVector("anderson-mix", "active", active, batch);
        CheckSlots("anderson-mix", 0, used, m);
        CheckNoOverlap("anderson-mix", "iterates", iterates, z);
        CheckNoOverlap("anderson-mix", "residuals", residuals, z);
        if (batch == 0) return;
        AndersonMixCore(new AndersonShape(batch, m, d, 0, used), solutions.Storage, lalpha, status.Storage, status.Offset, active.Storage, active.Offset,
            iterates.Storage, iterates.Offset, residuals.Storage, residuals.Offset, fz.Storage, Layout(fz), beta, z.Storage, Layout(z));
    }

    private static void CheckSlots(string op, int slot, int used, int m)
    {
        if (used < 1 || used > m) throw new ArgumentOutOfRangeException(nameof(used), used, $"{op}: used slots must be in [1, {m}]");
        if (slot < 0 || slot >= used) throw new ArgumentOutOfRangeException(nameof(slot), slot, $"{op}: the slot must be one of the {used} used slots");
    }

    protected abstract void AndersonUpdateCore<T>(AndersonShape shape, Storage<T> z, MatrixLayout lz, Storage<T> fz, MatrixLayout lf,
        Storage<T> iterates, long iteratesOffset, Storage<T> residuals, long residualsOffset, Storage<T> gram, long gramOffset,
        Storage<T> absSquared, long absOffset, Storage<T> normSquared, long normOffset) where T : unmanaged, IFloatingPointIeee754<T>;

    protected abstract void AndersonMixCore<T>(AndersonShape shape, Storage<T> alpha, MatrixLayout lalpha, Storage<int> status, long statusOffset,
        Storage<T> active, long activeOffset, Storage<T> iterates, long iteratesOffset, Storage<T> residuals, long residualsOffset,
        Storage<T> fz, MatrixLayout lf, T beta, Storage<T> z, MatrixLayout lz) where T : unmanaged, IFloatingPointIeee754<T>;
}
