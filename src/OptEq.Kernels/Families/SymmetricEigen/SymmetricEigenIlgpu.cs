using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using OptEq.Kernels.Ilgpu.Kernels;
using OptEq.Kernels.Native;

namespace OptEq.Kernels.Ilgpu;

/// <summary>The batched symmetric eigensolver on an ILGPU accelerator: one thread per matrix (<see cref="SymmetricEigenKernel"/>).</summary>
internal sealed class SymmetricEigenIlgpu(IlgpuDevice device) : ISymmetricEigenBackend
{
    public void SymmetricEigen<T>(int batch, int n, MatrixView<T> a, MatrixView<T> values, MatrixView<T> vectors) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T tolerance = JacobiEigen.Roundoff<T>() * JacobiEigen.Roundoff<T>();
        if (typeof(T) == typeof(float))
        {
            var kernel = device.Kernels.Get("symmetric-eigen", typeof(T), null, acc =>
                acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float, SqrtFloat>(SymmetricEigenKernel.Run));
            kernel(device.PerItemLaunch(batch), Cast<T, float>(a), Cast<T, float>(values), Cast<T, float>(vectors), batch, n, float.CreateChecked(tolerance), default);
        }
        else if (typeof(T) == typeof(double))
        {
            var kernel = device.Kernels.Get("symmetric-eigen", typeof(T), null, acc =>
                acc.LoadStreamKernel<ArrayView<double>, ArrayView<double>, ArrayView<double>, int, int, double, SqrtDouble>(SymmetricEigenKernel.Run));
            kernel(device.PerItemLaunch(batch), Cast<T, double>(a), Cast<T, double>(values), Cast<T, double>(vectors), batch, n, double.CreateChecked(tolerance), default);
        }
        else throw new NotSupportedException($"symmetric-eigen: {typeof(T).Name} is not supported on ILGPU (float or double)");
    }

    private static ArrayView<TTo> Cast<TFrom, TTo>(MatrixView<TFrom> view) where TFrom : unmanaged where TTo : unmanaged
        => IlgpuDevice.View(view).Cast<TTo>();
}
