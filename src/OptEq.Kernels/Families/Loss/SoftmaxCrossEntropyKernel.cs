using System.Numerics;
using ILGPU;

namespace OptEq.Kernels.Ilgpu.Kernels;

/// <summary>
/// Per row: loss ← log Σ exp(z) − z[label], gradient ← scale·(softmax(z) − onehot(label))
/// (reference: <see cref="Reference.ReferenceKernels.SoftmaxCrossEntropy"/>). One group per row: a group max, then a
/// group sum of exp(z − max), so no exp overflows. A label outside [0, cols) gives a NaN loss and a NaN gradient row.
/// </summary>
public static class SoftmaxCrossEntropyKernel
{
    public static void Run<T>(ArrayView<T> logits, long ldl, ArrayView<int> labels, ArrayView<T> loss, ArrayView<T> gradient, long ldg,
        int rows, int cols, int writeGradient, T scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var scratch = SharedMemory.GetDynamic<T>();
        for (int r = Grid.IdxX; r < rows; r += Grid.DimX)
        {
            long z = r * ldl;
            T max = T.NegativeInfinity;
            for (int c = Group.IdxX; c < cols; c += Group.DimX)
                max = default(MaxCombine<T>).Combine(max, logits[z + c]);
            max = GroupReduce.Reduce<T, MaxCombine<T>>(scratch, max);

            T sum = T.Zero;
            for (int c = Group.IdxX; c < cols; c += Group.DimX)
                sum += T.Exp(logits[z + c] - max);
            T logSum = T.Log(GroupReduce.Reduce<T, SumCombine<T>>(scratch, sum)) + max;

            int label = labels[r];
            bool valid = label >= 0 && label < cols;
            if (Group.IsFirstThread) loss[r] = valid ? logSum - logits[z + label] : T.NaN;
            if (writeGradient == 0) continue;
            for (int c = Group.IdxX; c < cols; c += Group.DimX)
            {
                T p = T.Exp(logits[z + c] - logSum);
                gradient[r * ldg + c] = !valid ? T.NaN : scale * (c == label ? p - T.One : p);
            }
        }
    }
}
