using System.Numerics;

namespace OptEq.Kernels.Native;

/// <summary>The loss family on the CPU: one row per sample, rows split across the worker team.</summary>
internal sealed unsafe class LossNative : ILossBackend
{
    public void SoftmaxCrossEntropy<T>(int rows, int cols, MatrixView<T> logits, MatrixView<int> labels, MatrixView<T> loss, MatrixView<T> gradient, T gradientScale)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        NativeParallel.For(rows, cols * 4L, new SoftmaxCrossEntropyRows<T>
        {
            Logits = logits.Rows(), Labels = labels.Ptr(), Loss = loss.Ptr(), Gradient = gradient.Rows(), GradientScale = gradientScale, Cols = cols,
        });

    public void MmcLoss<T>(int rows, int cols, int classes, MatrixView<T> features, MatrixView<int> labels, MatrixView<T> centres, MatrixView<T> loss, MatrixView<T> gradient, T gradientScale)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        NativeParallel.For(rows, cols * 3L, new MmcRows<T>
        {
            Features = features.Rows(), Centres = centres.Rows(), Labels = labels.Ptr(), Loss = loss.Ptr(), Gradient = gradient.Rows(),
            GradientScale = gradientScale, Cols = cols, Classes = classes,
        });

    /// <summary>½‖f − μ_label‖² and scale·(f − μ_label) per row; the loss is summed before any gradient element is written.</summary>
    private struct MmcRows<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public RowPointer<T> Features, Centres, Gradient;
        public int* Labels;
        public T* Loss;
        public T GradientScale;
        public int Cols, Classes;

        public readonly void Run(int r0, int r1)
        {
            T half = T.One / (T.One + T.One);
            for (int r = r0; r < r1; r++)
            {
                T* f = Features[r];
                int label = Labels[r];
                if ((uint)label >= (uint)Classes)
                {
                    Loss[r] = T.NaN;
                    if (!Gradient.IsNull) for (int j = 0; j < Cols; j++) Gradient[r][j] = T.NaN;
                    continue;
                }
                T* mu = Centres[label];
                T sum = T.Zero;
                for (int j = 0; j < Cols; j++) { T e = f[j] - mu[j]; sum += e * e; }
                Loss[r] = half * sum;
                if (Gradient.IsNull) continue;
                T* g = Gradient[r];
                for (int j = 0; j < Cols; j++) g[j] = GradientScale * (f[j] - mu[j]);
            }
        }
    }

    private struct SoftmaxCrossEntropyRows<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public RowPointer<T> Logits, Gradient;
        public int* Labels;
        public T* Loss;
        public T GradientScale;
        public int Cols;

        public readonly void Run(int r0, int r1)
        {
            for (int r = r0; r < r1; r++)
            {
                T* z = Logits[r];
                T max = T.NegativeInfinity;
                for (int j = 0; j < Cols; j++) max = T.Max(max, z[j]);
                T sum = T.Zero;
                for (int j = 0; j < Cols; j++) sum += T.Exp(z[j] - max);
                T logSum = T.Log(sum) + max;
                int label = Labels[r];
                bool valid = (uint)label < (uint)Cols;
                Loss[r] = valid ? logSum - z[label] : T.NaN;
                if (Gradient.IsNull) continue;
                T* g = Gradient[r];
                for (int j = 0; j < Cols; j++)
                {
                    T p = T.Exp(z[j] - logSum);
                    g[j] = GradientScale * (j == label ? p - T.One : p);
                }
                if (!valid) for (int j = 0; j < Cols; j++) g[j] = T.NaN;
            }
        }
    }
}
