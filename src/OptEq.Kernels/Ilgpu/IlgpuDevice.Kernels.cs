namespace OptEq.Kernels.Ilgpu;

// Placeholder until the ILGPU kernels land; every method is replaced by a real kernel.
public sealed partial class IlgpuDevice
{
    private static Exception Missing(string op) => new NotSupportedException($"{op} has no ILGPU kernel yet");
    protected override void TransposeCore<T>(int m, int n, Storage<T> a, MatrixLayout la, Storage<T> result, MatrixLayout lr) => throw Missing("transpose");
}
