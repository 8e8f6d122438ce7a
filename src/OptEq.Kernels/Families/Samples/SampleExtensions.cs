using System.Numerics;

namespace OptEq.Kernels;

/// <summary>The per-sample kernel: a rule applied to every sample's state column (solvers keep their bookkeeping with it).</summary>
public static class SampleExtensions
{
    /// <summary>
    /// For every sample s of state [<see cref="SampleColumn.Rows"/>, batch]: (tx, ty) ← rule.Apply(x[s], y[s], ref column s);
    /// where given, traceX[traceRow, s] ← tx and traceY[traceRow, s] ← ty (traces are [rows, batch]).
    /// x and y have one element per sample.
    /// </summary>
    public static void UpdateSamples<T, TRule>(this Device device, TRule rule, Tensor<T> x, Tensor<T> y, Tensor<T> state,
        int traceRow = 0, Tensor<T>? traceX = null, Tensor<T>? traceY = null)
        where T : unmanaged, IFloatingPointIeee754<T> where TRule : struct, ISampleRule<T>
    {
        const string op = "update-samples";
        device.CheckSameDevice(op, x, y, state, traceX ?? state, traceY ?? state);
        if (state.Rank != 2 || state.Shape[0] != SampleColumn.Rows || !state.IsContiguous)
            throw new ShapeException($"{op}: state must be a contiguous [{SampleColumn.Rows}, batch] tensor, got {ShapeUtil.Format(state.Shape)}");
        int batch = state.Shape[1];
        Checks.RowVector(op, "x", x, batch);
        Checks.RowVector(op, "y", y, batch);
        CheckTrace(op, "traceX", traceX, traceRow, batch); // not a loop over a new array: this runs every solver iteration
        CheckTrace(op, "traceY", traceY, traceRow, batch);
        if (batch == 0) return;
        device.Family<ISampleBackend>().UpdateSamples(rule, batch, MatrixView<T>.Vector(x), MatrixView<T>.Vector(y), MatrixView<T>.Vector(state),
            traceRow, Trace(traceX), Trace(traceY));
    }

    private static MatrixView<T> Trace<T>(Tensor<T>? trace) where T : unmanaged => trace is null ? default : MatrixView<T>.Vector(trace);

    private static void CheckTrace<T>(string op, string name, Tensor<T>? trace, int row, int batch) where T : unmanaged
    {
        if (trace is null) return;
        if (trace.Rank != 2 || trace.Shape[1] != batch || !trace.IsContiguous)
            throw new ShapeException($"{op}: {name} must be a contiguous [rows, {batch}] tensor, got {ShapeUtil.Format(trace.Shape)}");
        if (row < 0 || row >= trace.Shape[0])
            throw new ShapeException($"{op}: trace row {row} is outside {name}'s {trace.Shape[0]} rows");
    }
}

/// <summary>What a backend implements for the per-sample kernel. Operands are contiguous; state is [<see cref="SampleColumn.Rows"/>, batch].</summary>
internal interface ISampleBackend
{
    void UpdateSamples<T, TRule>(TRule rule, int batch, MatrixView<T> x, MatrixView<T> y, MatrixView<T> state, int traceRow, MatrixView<T> traceX, MatrixView<T> traceY)
        where T : unmanaged, IFloatingPointIeee754<T> where TRule : struct, ISampleRule<T>;
}
