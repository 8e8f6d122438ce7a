using ILGPU;

namespace OptEq.Kernels.Ilgpu.Kernels;

/// <summary>
/// result[j, i] ← a[i, j] for a of m × n (reference: <see cref="Reference.ReferenceKernels.Transpose"/>). A group moves
/// one tile × tile block at a time through shared memory (tile = Group.DimX; Group.DimY rows per pass), so both the
/// reads of a and the writes of the result run along rows and coalesce. The shared tile has one padding column: the
/// column-wise reads of the second half then fall in distinct banks.
/// </summary>
public static class TransposeKernel
{
    public static void Run<T>(ArrayView<T> a, long lda, ArrayView<T> result, long ldr, int m, int n) where T : unmanaged
    {
        int tile = Group.DimX, pitch = tile + 1;
        int tx = Group.IdxX;
        var buffer = SharedMemory.GetDynamic<T>(); // tile × (tile + 1)
        int tilesM = (m + tile - 1) / tile, tilesN = (n + tile - 1) / tile;
        for (int ti = Grid.IdxY; ti < tilesM; ti += Grid.DimY)
            for (int tj = Grid.IdxX; tj < tilesN; tj += Grid.DimX)
            {
                int i0 = ti * tile, j0 = tj * tile;
                for (int dy = Group.IdxY; dy < tile; dy += Group.DimY)
                {
                    int i = i0 + dy, j = j0 + tx;
                    if (i < m && j < n) buffer[dy * pitch + tx] = a[i * lda + j];
                }
                Group.Barrier();
                for (int dy = Group.IdxY; dy < tile; dy += Group.DimY)
                {
                    int j = j0 + dy, i = i0 + tx;
                    if (j < n && i < m) result[j * ldr + i] = buffer[tx * pitch + dy];
                }
                Group.Barrier(); // the tile is read by all before the next one overwrites it
            }
    }
}
