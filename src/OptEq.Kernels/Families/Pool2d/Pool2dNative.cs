using System.Numerics;

namespace OptEq.Kernels.Native;

/// <summary>Average pooling on the CPU: direct loops over each window, samples split across the cores.</summary>
internal sealed unsafe class Pool2dNative : IPool2dBackend
{
    public void AvgPool<T>(in Pool2dGeometry g, int batch, MatrixView<T> input, MatrixView<T> output) where T : unmanaged, IFloatingPointIeee754<T>
        => NativeParallel.For(batch, g.InputSize, new PoolSamples<T> { G = g, Input = input.Rows(), Output = output.Rows() });

    public void AvgPoolBackward<T>(in Pool2dGeometry g, int batch, MatrixView<T> gradOutput, MatrixView<T> gradInput, T beta) where T : unmanaged, IFloatingPointIeee754<T>
        => NativeParallel.For(batch, g.InputSize, new PoolBackwardSamples<T> { G = g, GradOutput = gradOutput.Rows(), GradInput = gradInput.Rows(), Beta = beta });

    private struct PoolSamples<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Pool2dGeometry G;
        public RowPointer<T> Input, Output;

        public readonly void Run(int b0, int b1)
        {
            int h = G.Height, w = G.Width, k = G.Kernel, s = G.Stride, oh = G.OutHeight, ow = G.OutWidth;
            T scale = T.One / T.CreateChecked(k * k);
            for (int b = b0; b < b1; b++)
                for (int c = 0; c < G.Channels; c++)
                {
                    T* x = Input[b] + (long)c * h * w, y = Output[b] + (long)c * oh * ow;
                    for (int r = 0; r < oh; r++)
                        for (int q = 0; q < ow; q++)
                        {
                            T sum = T.Zero;
                            T* window = x + r * s * w + q * s;
                            for (int i = 0; i < k; i++)
                                for (int j = 0; j < k; j++) sum += window[i * w + j];
                            y[r * ow + q] = sum * scale;
                        }
                }
        }
    }

    private struct PoolBackwardSamples<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Pool2dGeometry G;
        public RowPointer<T> GradOutput, GradInput;
        public T Beta;

        public readonly void Run(int b0, int b1)
        {
            int h = G.Height, w = G.Width, k = G.Kernel, s = G.Stride, oh = G.OutHeight, ow = G.OutWidth;
            T scale = T.One / T.CreateChecked(k * k);
            for (int b = b0; b < b1; b++)
            {
                Conv2dNative.Scale(GradInput[b], G.InputSize, Beta);
                for (int c = 0; c < G.Channels; c++)
                {
                    T* dx = GradInput[b] + (long)c * h * w, dy = GradOutput[b] + (long)c * oh * ow;
                    for (int r = 0; r < oh; r++)
                        for (int q = 0; q < ow; q++)
                        {
                            T share = dy[r * ow + q] * scale;
                            T* window = dx + r * s * w + q * s;
                            for (int i = 0; i < k; i++)
                                for (int j = 0; j < k; j++) window[i * w + j] += share;
                        }
                }
            }
        }
    }
}
