using System.Numerics;
using System.Runtime.Intrinsics;

namespace OptEq.Kernels.Native;

public sealed unsafe partial class NativeCpuDevice
{
    protected override void CopyCore<T>(int rows, int cols, Storage<T> src, MatrixLayout ls, Storage<T> dst, MatrixLayout ld) =>
        NativeParallel.For(rows, cols, new CopyRows<T> { Src = Rows(src, ls), Dst = Rows(dst, ld), Cols = cols });

    protected override void FillCore<T>(int rows, int cols, Storage<T> x, MatrixLayout lx, T value) =>
        NativeParallel.For(rows, cols, new FillRows<T> { X = Rows(x, lx), Cols = cols, Value = value });

    protected override void AddBiasCore<T>(int rows, int cols, Storage<T> x, MatrixLayout lx, Storage<T> bias, long biasOffset, Storage<T> y, MatrixLayout ly) =>
        NativeParallel.For(rows, cols, new AddBiasRows<T> { X = Rows(x, lx), Bias = Ptr(bias, biasOffset), Y = Rows(y, ly), Cols = cols });

    protected override void AxpbyCore<T>(int rows, int cols, T alpha, Storage<T> x, MatrixLayout lx, T beta, Storage<T> y, MatrixLayout ly, Storage<T> result, MatrixLayout lr) =>
        NativeParallel.For(rows, cols, new AxpbyRows<T> { Alpha = alpha, X = Rows(x, lx), Beta = beta, Y = Rows(y, ly), Result = Rows(result, lr), Cols = cols });

    protected override void TransposeCore<T>(int m, int n, Storage<T> a, MatrixLayout la, Storage<T> result, MatrixLayout lr)
    {
        int tileRows = (m + TransposeTiles<T>.Tile - 1) / TransposeTiles<T>.Tile;
        NativeParallel.For(tileRows, (long)TransposeTiles<T>.Tile * n, new TransposeTiles<T> { A = Rows(a, la), Result = Rows(result, lr), M = m, N = n });
    }

    private struct CopyRows<T> : IRangeBody where T : unmanaged
    {
        public RowPointer<T> Src, Dst;
        public int Cols;

        public readonly void Run(int r0, int r1)
        {
            for (int r = r0; r < r1; r++) new ReadOnlySpan<T>(Src[r], Cols).CopyTo(new Span<T>(Dst[r], Cols));
        }
    }

    private struct FillRows<T> : IRangeBody where T : unmanaged
    {
        public RowPointer<T> X;
        public int Cols;
        public T Value;

        public readonly void Run(int r0, int r1)
        {
            for (int r = r0; r < r1; r++) new Span<T>(X[r], Cols).Fill(Value);
        }
    }

    private struct AddBiasRows<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public RowPointer<T> X, Y;
        public T* Bias;
        public int Cols;

        public readonly void Run(int r0, int r1)
        {
            for (int r = r0; r < r1; r++)
            {
                T* xr = X[r], yr = Y[r];
                int j = 0;
                for (; j <= Cols - Vector512<T>.Count; j += Vector512<T>.Count)
                    Vector512.Store(Vector512.Load(xr + j) + Vector512.Load(Bias + j), yr + j);
                for (; j < Cols; j++) yr[j] = xr[j] + Bias[j];
            }
        }
    }

    private struct AxpbyRows<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T Alpha, Beta;
        public RowPointer<T> X, Y, Result;
        public int Cols;

        public readonly void Run(int r0, int r1)
        {
            var va = Vector512.Create(Alpha);
            var vb = Vector512.Create(Beta);
            bool readY = Beta != T.Zero; // β = 0 never reads y (it may be uninitialised)
            for (int r = r0; r < r1; r++)
            {
                T* xr = X[r], yr = Y[r], rr = Result[r];
                int j = 0;
                if (readY)
                {
                    for (; j <= Cols - Vector512<T>.Count; j += Vector512<T>.Count)
                        Vector512.Store(va * Vector512.Load(xr + j) + vb * Vector512.Load(yr + j), rr + j);
                    for (; j < Cols; j++) rr[j] = Alpha * xr[j] + Beta * yr[j];
                }
                else
                {
                    for (; j <= Cols - Vector512<T>.Count; j += Vector512<T>.Count)
                        Vector512.Store(va * Vector512.Load(xr + j), rr + j);
                    for (; j < Cols; j++) rr[j] = Alpha * xr[j];
                }
            }
        }
    }

    private struct TransposeTiles<T> : IRangeBody where T : unmanaged
    {
        public const int Tile = 32; // a tile of a and of the result both stay in L1
        public RowPointer<T> A, Result;
        public int M, N;

        public readonly void Run(int t0, int t1)
        {
            for (int ti = t0; ti < t1; ti++)
            {
                int i0 = ti * Tile, i1 = Math.Min(M, i0 + Tile);
                for (int j0 = 0; j0 < N; j0 += Tile)
                {
                    int j1 = Math.Min(N, j0 + Tile);
                    for (int i = i0; i < i1; i++)
                    {
                        T* ar = A[i];
                        for (int j = j0; j < j1; j++) Result[j][i] = ar[j];
                    }
                }
            }
        }
    }
}
