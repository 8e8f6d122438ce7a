namespace OptEq.Kernels.Native;

public sealed unsafe partial class NativeCpuDevice
{
    protected override void SoftmaxCrossEntropyCore<T>(int rows, int cols, Storage<T> logits, MatrixLayout ll, Storage<int> labels, long labelsOffset,
        Storage<T> loss, long lossOffset, Storage<T>? gradient, MatrixLayout lg, T gradientScale)
    {
        NativeParallel.ForRanges(rows, cols * 4L, (r0, r1) =>
        {
            int* lab = Ptr(labels, labelsOffset);
            T* los = Ptr(loss, lossOffset);
            for (int r = r0; r < r1; r++)
            {
                T* z = Row(logits, ll, r);
                T max = T.NegativeInfinity;
                for (int j = 0; j < cols; j++) max = T.Max(max, z[j]);
                T sum = T.Zero;
                for (int j = 0; j < cols; j++) sum += T.Exp(z[j] - max);
                T logSum = T.Log(sum) + max;
                int label = lab[r];
                bool valid = (uint)label < (uint)cols;
                los[r] = valid ? logSum - z[label] : T.NaN;
                if (gradient is null) continue;
                T* g = Row(gradient, lg, r);
                for (int j = 0; j < cols; j++)
                {
                    T p = T.Exp(z[j] - logSum);
                    g[j] = gradientScale * (j == label ? p - T.One : p);
                }
                if (!valid) for (int j = 0; j < cols; j++) g[j] = T.NaN;
            }
        });
    }
}
