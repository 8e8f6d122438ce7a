namespace OptEq.Kernels.Native;

/// <summary>The transpose on the CPU: 32 × 32 tiles, bands of tile rows split across the worker team.</summary>
internal sealed unsafe class TransposeNative : ITransposeBackend
{
    public void Transpose<T>(int m, int n, MatrixView<T> a, MatrixView<T> result) where T : unmanaged
    {
        int tileRows = (m + TransposeTiles<T>.Tile - 1) / TransposeTiles<T>.Tile;
        NativeParallel.For(tileRows, (long)TransposeTiles<T>.Tile * n, new TransposeTiles<T> { A = a.Rows(), Result = result.Rows(), M = m, N = n });
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
