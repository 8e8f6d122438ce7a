using System.Runtime.CompilerServices;

namespace OptEq.Kernels.Native;

/// <summary>
/// The GotoBLAS/BLIS loop nest for the 256- and 128-bit micro-kernels, on the calling thread: for each nc block of columns
/// and kc block of depth, pack op(B) once; for each mc block of rows, pack op(A) once; then run the kernel over every B
/// panel (kept in L1) and every A panel (streamed from L2). Edge tiles are computed whole into a scratch tile (the
/// packing zero-pads them) and only their valid part is merged into C. Each finished tile gets the epilogue, if any.
/// </summary>
internal static unsafe class PackedSgemmDriver
{
    /// <summary>C[rows, cols] ← α·op(A)[rows, :]·op(B)[:, cols] + β·C[rows, cols], with K ≥ 1.</summary>
    public static void Run<TKernel>(in SgemmProblem p, int rowStart, int rowEnd, int colStart, int colEnd, SgemmWorkspace workspace)
        where TKernel : struct, ISgemmTileKernel
    {
        int m = rowEnd - rowStart, n = colEnd - colStart;
        if (m <= 0 || n <= 0) return;
        int mr = TKernel.Rows, nr = TKernel.Cols;
        int kBlocks = SgemmBlocking.BlockCount(p.K, TKernel.KC);
        int kcMax = SgemmBlocking.BlockCount(p.K, kBlocks);
        int mcMax = Math.Min(TKernel.MC, RoundUp(m, mr)), ncMax = Math.Min(TKernel.NC, RoundUp(n, nr));
        workspace.Ensure((long)mcMax * kcMax, (long)kcMax * ncMax);
        float* packedA = workspace.PackedA, packedB = workspace.PackedB;

        for (int jc = 0; jc < n; jc += TKernel.NC)
        {
            int nc = Math.Min(TKernel.NC, n - jc);
            for (int kb = 0; kb < kBlocks; kb++)
            {
                var (pc, kc) = SgemmBlocking.Block(p.K, kBlocks, kb); // balanced: k = 300 runs as 150 + 150
                SgemmPanelPacking.PackB(p.TransB, p.BAt(pc, colStart + jc), p.Ldb, kc, nc, nr, packedB);
                float beta = kb == 0 ? p.Beta : 1f; // later depth blocks add to what the first one wrote
                for (int ic = 0; ic < m; ic += TKernel.MC)
                {
                    int mc = Math.Min(TKernel.MC, m - ic);
                    SgemmPanelPacking.PackA(p.TransA, p.AAt(rowStart + ic, pc), p.Lda, mc, kc, mr, packedA);
                    MacroKernel<TKernel>(mc, nc, kc, packedA, packedB, p.C + (rowStart + ic) * p.Ldc + colStart + jc, p.Ldc, p.Alpha, beta,
                        kb == kBlocks - 1 ? p.Epilogue : null, rowStart + ic, colStart + jc);
                }
            }
        }
    }

    private static int RoundUp(int x, int unit) => (x + unit - 1) / unit * unit;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // no slow first calls
    private static void MacroKernel<TKernel>(int mc, int nc, int kc, float* packedA, float* packedB, float* c, long ldc, float alpha, float beta,
        SgemmEpilogue* epilogue, int ic, int jc) where TKernel : struct, ISgemmTileKernel
    {
        int mr = TKernel.Rows, nr = TKernel.Cols;
        float* scratch = stackalloc float[mr * nr];
        for (int j = 0; j < nc; j += nr)
        {
            int cols = Math.Min(nr, nc - j);
            float* bPanel = packedB + (long)j * kc;
            for (int i = 0; i < mc; i += mr)
            {
                int rows = Math.Min(mr, mc - i);
                float* aPanel = packedA + (long)i * kc, tile = c + i * ldc + j;
                if (rows == mr && cols == nr)
                    TKernel.Run(kc, aPanel, bPanel, tile, ldc, alpha, beta);
                else
                {
                    TKernel.Run(kc, aPanel, bPanel, scratch, nr, alpha, 0f);
                    for (int r = 0; r < rows; r++)
                    {
                        float* from = scratch + r * nr, to = tile + r * ldc;
                        if (beta == 0) for (int x = 0; x < cols; x++) to[x] = from[x];
                        else for (int x = 0; x < cols; x++) to[x] = from[x] + beta * to[x];
                    }
                }
                if (epilogue != null) epilogue->Apply(tile, ldc, ic + i, jc + j, rows, cols);
            }
        }
    }
}
