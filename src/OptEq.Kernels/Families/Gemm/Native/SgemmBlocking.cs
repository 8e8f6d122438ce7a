namespace OptEq.Kernels.Native;

/// <summary>
/// Cache-block sizes of the packed float32 GEMM and how blocks are cut into micro-panels.
/// Sizes are for a core with 48 KiB L1d, 1 MiB L2 and a shared L3 (Zen 5); measured with <c>opteq bench gemm</c>.
/// </summary>
internal static class SgemmBlocking
{
    /// <summary>
    /// Depth of one packed block. A kc×32 B micro-panel (32 KiB at 256) stays in L1 while the kernel walks down the
    /// A panels; blocks of k are balanced, so k = 300 runs as two blocks of 150, not 256 + 44.
    /// </summary>
    public const int KC = 256;

    /// <summary>Rows of one packed A block (mc×kc, 168 KiB at 168×256): lives in L2 and is reused across all of nc.</summary>
    public const int MC = 168;

    /// <summary>Columns of one packed B block (kc×nc, 4 MiB at 256×4096): lives in L2/L3 and is reused across all of mc.</summary>
    public const int NC = 4096;

    /// <summary>Micro-panels for a block of mc rows: as few as the kernel's 14-row limit allows.</summary>
    public static int RowPanelCount(int mc) => (mc + SgemmMicroKernel.MaxRows - 1) / SgemmMicroKernel.MaxRows;

    /// <summary>
    /// Panel q of mc rows cut into nearly equal heights (128 rows → 12 and 13, not 9×14 + 2): a thin panel would run the
    /// kernel with too few independent FMAs to cover their latency.
    /// </summary>
    public static (int Start, int Height) RowPanel(int mc, int panels, int q)
    {
        int start = (int)((long)mc * q / panels), end = (int)((long)mc * (q + 1) / panels);
        return (start, end - start);
    }

    /// <summary>Block b of <paramref name="count"/> blocks splitting <paramref name="total"/> into nearly equal parts.</summary>
    public static (int Start, int Size) Block(int total, int count, int b)
    {
        int start = (int)((long)total * b / count), end = (int)((long)total * (b + 1) / count);
        return (start, end - start);
    }

    /// <summary>Blocks of at most <paramref name="max"/> needed for <paramref name="total"/>.</summary>
    public static int BlockCount(int total, int max) => (total + max - 1) / max;
}
