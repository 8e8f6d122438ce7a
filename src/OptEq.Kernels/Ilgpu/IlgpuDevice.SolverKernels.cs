namespace OptEq.Kernels.Ilgpu;

// Placeholder until the solver kernels are ported to ILGPU.
public sealed partial class IlgpuDevice
{
    private static Exception MissingSolverKernel(string op) => new NotSupportedException($"{op} has no ILGPU kernel yet");
    protected internal override void MapCore<T, TOp>(TOp op, int rows, int cols, Storage<T> result, MatrixLayout lr, Storage<T> a, MatrixLayout la, Storage<T> b, MatrixLayout lb, Storage<T> c, MatrixLayout lc, Storage<T> d, MatrixLayout ld) => throw MissingSolverKernel("map");
    protected override void RowAxpbyCore<T>(int rows, int cols, Storage<T> alpha, long alphaOffset, Storage<T> x, MatrixLayout lx, Storage<T> beta, long betaOffset, Storage<T> y, MatrixLayout ly, Storage<T> result, MatrixLayout lr) => throw MissingSolverKernel("row-axpby");
    protected override void SelectRowsCore<T, TCond>(int rows, int cols, Storage<TCond> condition, long conditionOffset, Storage<T> a, MatrixLayout la, Storage<T> b, MatrixLayout lb, Storage<T> result, MatrixLayout lr) => throw MissingSolverKernel("select-rows");
    protected override void TrackResidualsCore<T>(int iteration, int batch, Storage<T> absSquared, long absOffset, Storage<T> normSquared, long normOffset, T absTolerance, T relTolerance, T divergenceFactor, Storage<T> state, long stateOffset, Storage<T>? traceAbs, long traceAbsOffset, Storage<T>? traceRel, long traceRelOffset) => throw MissingSolverKernel("track-residuals");
    protected override void AndersonSystemCore<T>(int batch, int m, int used, T ridge, Storage<T> gram, long gramOffset, Storage<T> system, long systemOffset, Storage<T> rhs, long rhsOffset) => throw MissingSolverKernel("anderson-system");
}
