using System.Numerics;
using System.Runtime.Intrinsics;

namespace OptEq.Kernels.Native;

/// <summary>
/// Average pooling on the CPU, samples split across the cores. Windows that tile the image (kernel = stride, the models'
/// pooling) sum their k rows as whole vectors first and then each group of k columns, so most additions are vector ones;
/// the backward pass spreads each output row once into a row buffer and adds it to the k input rows as vectors.
/// Overlapping or gapped windows run direct loops over each window.
/// </summary>
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
            if (k == s)
            {
                T* rows = stackalloc T[w];
                for (int b = b0; b < b1; b++)
                    for (int c = 0; c < G.Channels; c++)
                    {
                        T* x = Input[b] + (long)c * h * w, y = Output[b] + (long)c * oh * ow;
                        for (int r = 0; r < oh; r++, y += ow)
                        {
                            T* window = x + (long)r * k * w;
                            Copy(window, rows, w);
                            for (int i = 1; i < k; i++) AddTo(window + (long)i * w, rows, w);
                            for (int q = 0; q < ow; q++)
                            {
                                T sum = T.Zero;
                                for (int j = 0; j < k; j++) sum += rows[q * k + j];
                                y[q] = sum * scale;
                            }
                        }
                    }
                return;
            }
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
            if (k == s)
            {
                // Columns past the last window (w not a multiple of k) get no gradient: zero in the row buffer.
                T* shares = stackalloc T[w];
                new Span<T>(shares, w).Clear();
                for (int b = b0; b < b1; b++)
                    for (int c = 0; c < G.Channels; c++)
                    {
                        T* dx = GradInput[b] + (long)c * h * w, dy = GradOutput[b] + (long)c * oh * ow;
                        for (int r = 0; r < h; r++)
                        {
                            T* row = dx + (long)r * w;
                            if (r >= oh * k) { ScaleRow(row, w, Beta); continue; }
                            if (r % k == 0)
                                for (int q = 0; q < ow; q++)
                                {
                                    T share = dy[(r / k) * ow + q] * scale;
                                    for (int j = 0; j < k; j++) shares[q * k + j] = share;
                                }
                            AddScaled(shares, row, w, Beta);
                        }
                    }
                return;
            }
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

    /// <summary>y[0..n) ← x[0..n).</summary>
    private static void Copy<T>(T* x, T* y, int n) where T : unmanaged, IFloatingPointIeee754<T>
        => new ReadOnlySpan<T>(x, n).CopyTo(new Span<T>(y, n));

    /// <summary>y[0..n) += x[0..n), in 256-bit vectors where the CPU has them.</summary>
    private static void AddTo<T>(T* x, T* y, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (SimdWidth.Current >= VectorWidth.Bits256)
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count) Vector256.Store(Vector256.Load(x + i) + Vector256.Load(y + i), y + i);
        for (; i < n; i++) y[i] += x[i];
    }

    /// <summary>y[0..n) ← x[0..n) + β·y (β = 0: y not read).</summary>
    private static void AddScaled<T>(T* x, T* y, int n, T beta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (beta == T.Zero)
        {
            Copy(x, y, n);
            return;
        }
        if (SimdWidth.Current >= VectorWidth.Bits256)
        {
            var vb = Vector256.Create(beta);
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count) Vector256.Store(Vector256.Load(x + i) + vb * Vector256.Load(y + i), y + i);
        }
        for (; i < n; i++) y[i] = x[i] + beta * y[i];
    }

    /// <summary>y[0..n) ← β·y (β = 0 clears).</summary>
    private static void ScaleRow<T>(T* y, int n, T beta) where T : unmanaged, IFloatingPointIeee754<T> => Conv2dNative.Scale(y, n, beta);
}
