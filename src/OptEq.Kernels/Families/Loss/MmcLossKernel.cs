using System.Numerics;
using ILGPU;

namespace OptEq.Kernels.Ilgpu.Kernels;

/// <summary>
/// Per row: loss ← ½‖f − μ_label‖², gradient ← scale·(f − μ_label) (reference: <see cref="Reference.ReferenceKernels.MmcLoss"/>).
/// One group per row (rows taken with a grid stride): the threads fold strided slices of the squared distance and
/// combine them in shared memory; the gradient is written after the reduction. A label outside [0, classes) gives a NaN
/// loss and a NaN gradient row (its centre is never read).
/// </summary>
public static class MmcLossKernel
{
    public static void Run<T>(ArrayView<T> features, long ldf, ArrayView<int> labels, ArrayView<T> centres, long ldc, ArrayView<T> loss,
        ArrayView<T> gradient, long ldg, int rows, int cols, int classes, int writeGradient, T scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var scratch = SharedMemory.GetDynamic<T>();
        for (int r = Grid.IdxX; r < rows; r += Grid.DimX)
        {
            int label = labels[r];
            bool valid = label >= 0 && label < classes;
            long f = r * ldf, mu = (valid ? label : 0) * ldc;
            T partial = T.Zero;
            for (int c = Group.IdxX; c < cols; c += Group.DimX)
            {
                T e = valid ? features[f + c] - centres[mu + c] : T.Zero;
                partial += e * e;
            }
            T sum = GroupReduce.Reduce<T, SumCombine<T>>(scratch, partial);
            if (Group.IsFirstThread) loss[r] = valid ? sum / (T.One + T.One) : T.NaN;
            if (writeGradient == 0) continue;
            for (int c = Group.IdxX; c < cols; c += Group.DimX)
                gradient[r * ldg + c] = valid ? scale * (features[f + c] - centres[mu + c]) : T.NaN;
        }
    }
}
