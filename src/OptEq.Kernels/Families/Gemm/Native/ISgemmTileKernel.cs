namespace OptEq.Kernels.Native;

/// <summary>
/// A register-blocked float32 micro-kernel of one vector width for <see cref="PackedSgemmDriver"/>: a full
/// <see cref="Rows"/>×<see cref="Cols"/> tile of C from a zero-padded packed A panel ([p][Rows], see
/// <see cref="SgemmPanelPacking"/>) and B panel ([p][Cols]), with the cache blocking measured for that width.
/// </summary>
internal interface ISgemmTileKernel
{
    /// <summary>Rows of the micro-tile (broadcast A elements per step).</summary>
    static abstract int Rows { get; }

    /// <summary>Columns of the micro-tile (a whole number of vectors).</summary>
    static abstract int Cols { get; }

    /// <summary>Depth of one packed block: a kc×Cols B panel stays in L1 while the kernel walks down the A panels.</summary>
    static abstract int KC { get; }

    /// <summary>Rows of one packed A block (MC×KC lives in L2), a multiple of <see cref="Rows"/>.</summary>
    static abstract int MC { get; }

    /// <summary>Columns of one packed B block (KC×NC lives in L2/L3), a multiple of <see cref="Cols"/>.</summary>
    static abstract int NC { get; }

    /// <summary>C[0..Rows, 0..Cols) ← α·(Apanel·Bpanel) + β·C over kc steps; β == 0 never reads C.</summary>
    static abstract unsafe void Run(int kc, float* a, float* b, float* c, long ldc, float alpha, float beta);
}
