namespace OptEq.Kernels.Ilgpu;

// Placeholder until the ILGPU kernels land; every method is replaced by a real kernel.
public sealed partial class IlgpuDevice
{
    private static Exception Missing(string op) => new NotSupportedException($"{op} has no ILGPU kernel yet");
    protected override void RowReduceCore<T>(RowReduction reduction, int rows, int cols, Storage<T> x, MatrixLayout lx, Storage<T> y, MatrixLayout ly, Storage<T> result, long resultOffset) => throw Missing("row-reduce");
    protected override void SoftmaxCrossEntropyCore<T>(int rows, int cols, Storage<T> logits, MatrixLayout ll, Storage<int> labels, long labelsOffset, Storage<T> loss, long lossOffset, Storage<T>? gradient, MatrixLayout lg, T gradientScale) => throw Missing("softmax-cross-entropy");
    protected override void BatchedSolveCore<T>(int batch, int n, Storage<T> a, long aOffset, Storage<T> b, long bOffset, Storage<T> x, long xOffset, Storage<int> status, long statusOffset) => throw Missing("batched-solve");
    protected override void TransposeCore<T>(int m, int n, Storage<T> a, MatrixLayout la, Storage<T> result, MatrixLayout lr) => throw Missing("transpose");
}
