namespace OptEq.Kernels.Ilgpu.Kernels;

/// <summary>
/// Tile shape of <see cref="GemmKernel"/>, a type parameter so that the sizes are compile-time constants (shared-memory
/// allocations need them). Every thread computes a 4 × 4 register block of C, so a group has (TileM/4)·(TileN/4) threads.
/// </summary>
public interface IGemmTiling
{
    /// <summary>Rows of C per group.</summary>
    int TileM { get; }
    /// <summary>Columns of C per group.</summary>
    int TileN { get; }
    /// <summary>Depth of the slices of op(A) and op(B) staged in shared memory per step.</summary>
    int TileK { get; }
}

/// <summary>
/// The GPU shape: 64 × 64 tiles of C, 16 × 16 threads of 4 × 4 each, k-slices of 16. Shared memory per group is
/// 2·16·65 elements (8.3 KB in float32, 16.6 KB in float64), well within 48 KB, so several groups fit on an SM.
/// Also what the 256-thread "ilgpu-cpu" simulator runs, so the tests check the CUDA launch shape.
/// </summary>
public struct GemmTiling64 : IGemmTiling
{
    public int TileM => 64;
    public int TileN => 64;
    public int TileK => 16;
}

/// <summary>For devices whose groups hold fewer than 256 threads (ILGPU's default CPU simulator has 16): 16 × 16 tiles, 4 × 4 threads.</summary>
public struct GemmTiling16 : IGemmTiling
{
    public int TileM => 16;
    public int TileN => 16;
    public int TileK => 16;
}
