using System.Runtime.CompilerServices;

namespace OptEq.Kernels.Native;

/// <summary>
/// The GotoBLAS/BLIS loop nest over one rectangle of C, on the calling thread: for each nc block of columns and kc block
/// of depth, pack op(B) once; for each mc block of rows, pack op(A) once; then run the micro-kernel over every 32-column
/// B panel (kept in L1) and every A row panel (streamed from L2).
/// </summary>
internal static unsafe class SgemmDriver
{
    /// <summary>C[rows, cols] ← α·op(A)[rows, :]·op(B)[:, cols] + β·C[rows, cols], with K ≥ 1.</summary>
    public static void Run(in SgemmProblem p, int rowStart, int rowEnd, int colStart, int colEnd, SgemmWorkspace workspace)
    {
        int m = rowEnd - rowStart, n = colEnd - colStart;
        if (m <= 0 || n <= 0) return;
        int kBlocks = SgemmBlocking.BlockCount(p.K, SgemmBlocking.KC);
        int mBlocks = SgemmBlocking.BlockCount(m, SgemmBlocking.MC);
        int nBlocks = SgemmBlocking.BlockCount(n, SgemmBlocking.NC);
        int kcMax = SgemmBlocking.BlockCount(p.K, kBlocks), mcMax = SgemmBlocking.BlockCount(m, mBlocks);
        int ncMax = SgemmBlocking.BlockCount(n, nBlocks);
        int ncPadded = SgemmBlocking.BlockCount(ncMax, SgemmMicroKernel.Cols) * SgemmMicroKernel.Cols;
        workspace.Ensure((long)mcMax * kcMax, (long)kcMax * ncPadded);
        float* packedA = workspace.PackedA, packedB = workspace.PackedB;

        for (int nb = 0; nb < nBlocks; nb++)
        {
            var (jc, nc) = SgemmBlocking.Block(n, nBlocks, nb);
            jc += colStart;
            for (int kb = 0; kb < kBlocks; kb++)
            {
                var (pc, kc) = SgemmBlocking.Block(p.K, kBlocks, kb);
                SgemmPackB.Pack(p.TransB, p.BAt(pc, jc), p.Ldb, kc, nc, packedB);
                float beta = kb == 0 ? p.Beta : 1f; // later depth blocks add to what the first one wrote
                for (int mb = 0; mb < mBlocks; mb++)
                {
                    var (ic, mc) = SgemmBlocking.Block(m, mBlocks, mb);
                    ic += rowStart;
                    SgemmPackA.Pack(p.TransA, p.AAt(ic, pc), p.Lda, mc, kc, packedA);
                    MacroKernel(mc, nc, kc, packedA, packedB, p.C + ic * p.Ldc + jc, p.Ldc, p.Alpha, beta,
                        kb == kBlocks - 1 ? p.Epilogue : null, ic, jc);
                }
            }
        }
    }

    /// <summary>
    /// One packed mc×kc A block times one packed kc×nc B block into C[mc, nc], whose first element is C[ic, jc]. With an
    /// epilogue (last depth block only), each micro-tile gets it right after the micro-kernel wrote it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // see SgemmMicroKernel: no slow first calls
    private static void MacroKernel(int mc, int nc, int kc, float* packedA, float* packedB, float* c, long ldc, float alpha, float beta,
        SgemmEpilogue* epilogue, int ic, int jc)
    {
        int panels = SgemmBlocking.RowPanelCount(mc);
        for (int j = 0; j < nc; j += SgemmMicroKernel.Cols)
        {
            int cols = Math.Min(SgemmMicroKernel.Cols, nc - j);
            float* bPanel = packedB + (long)j * kc;
            for (int q = 0; q < panels; q++)
            {
                var (start, h) = SgemmBlocking.RowPanel(mc, panels, q);
                float* tile = c + start * ldc + j;
                SgemmMicroKernel.Run(h, kc, packedA + (long)start * kc, bPanel, tile, ldc, alpha, beta, cols);
                if (epilogue != null) epilogue->Apply(tile, ldc, ic + start, jc + j, h, cols);
            }
        }
    }
}
