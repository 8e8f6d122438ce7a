using System.Numerics;
using System.Runtime.Intrinsics;

namespace OptEq.Kernels.Native;

public sealed unsafe partial class NativeCpuDevice
{
    protected override void CopyCore<T>(int rows, int cols, Storage<T> src, MatrixLayout ls, Storage<T> dst, MatrixLayout ld)
    {
        NativeParallel.ForRanges(rows, cols, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
                new ReadOnlySpan<T>(Row(src, ls, r), cols).CopyTo(new Span<T>(Row(dst, ld, r), cols));
        });
    }

    protected override void FillCore<T>(int rows, int cols, Storage<T> x, MatrixLayout lx, T value)
    {
        NativeParallel.ForRanges(rows, cols, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++) new Span<T>(Row(x, lx, r), cols).Fill(value);
        });
    }

    protected override void AddBiasCore<T>(int rows, int cols, Storage<T> x, MatrixLayout lx, Storage<T> bias, long biasOffset, Storage<T> y, MatrixLayout ly)
    {
        NativeParallel.ForRanges(rows, cols, (r0, r1) =>
        {
            T* b = Ptr(bias, biasOffset);
            for (int r = r0; r < r1; r++)
            {
                T* xr = Row(x, lx, r), yr = Row(y, ly, r);
                int j = 0;
                for (; j <= cols - Vector512<T>.Count; j += Vector512<T>.Count)
                    Vector512.Store(Vector512.Load(xr + j) + Vector512.Load(b + j), yr + j);
                for (; j < cols; j++) yr[j] = xr[j] + b[j];
            }
        });
    }

    protected override void AxpbyCore<T>(int rows, int cols, T alpha, Storage<T> x, MatrixLayout lx, T beta, Storage<T> y, MatrixLayout ly, Storage<T> result, MatrixLayout lr)
    {
        bool readY = beta != T.Zero;
        NativeParallel.ForRanges(rows, cols, (r0, r1) =>
        {
            var va = Vector512.Create(alpha);
            var vb = Vector512.Create(beta);
            for (int r = r0; r < r1; r++)
            {
                T* xr = Row(x, lx, r), yr = Row(y, ly, r), rr = Row(result, lr, r);
                int j = 0;
                if (readY)
                {
                    for (; j <= cols - Vector512<T>.Count; j += Vector512<T>.Count)
                        Vector512.Store(va * Vector512.Load(xr + j) + vb * Vector512.Load(yr + j), rr + j);
                    for (; j < cols; j++) rr[j] = alpha * xr[j] + beta * yr[j];
                }
                else
                {
                    for (; j <= cols - Vector512<T>.Count; j += Vector512<T>.Count)
                        Vector512.Store(va * Vector512.Load(xr + j), rr + j);
                    for (; j < cols; j++) rr[j] = alpha * xr[j];
                }
            }
        });
    }

    protected override void TransposeCore<T>(int m, int n, Storage<T> a, MatrixLayout la, Storage<T> result, MatrixLayout lr)
    {
        const int Tile = 32; // a tile of a and of the result both stay in L1
        int tileRows = (m + Tile - 1) / Tile;
        NativeParallel.ForRanges(tileRows, (long)Tile * n, (t0, t1) =>
        {
            for (int ti = t0; ti < t1; ti++)
            {
                int i0 = ti * Tile, i1 = Math.Min(m, i0 + Tile);
                for (int j0 = 0; j0 < n; j0 += Tile)
                {
                    int j1 = Math.Min(n, j0 + Tile);
                    for (int i = i0; i < i1; i++)
                    {
                        T* ar = Row(a, la, i);
                        for (int j = j0; j < j1; j++) Row(result, lr, j)[i] = ar[j];
                    }
                }
            }
        });
    }
}
