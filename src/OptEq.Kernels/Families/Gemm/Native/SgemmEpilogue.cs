namespace OptEq.Kernels.Native;

/// <summary>
/// What the sgemm driver applies to each finished micro-tile of C (after the last depth block, while the tile is in L1):
/// C ← σ(C + addend) and derivative ← σ′(C + addend). The activation is a function pointer over a row segment with its
/// struct behind a pointer, so the driver stays non-generic. Every packed kernel (each width) applies it the same way.
/// </summary>
internal unsafe struct SgemmEpilogue
{
    /// <summary>Row 0 of the addend at column 0; null: nothing added. Row stride 0 broadcasts one bias row.</summary>
    public float* Addend;
    public long AddendStride;
    /// <summary>Row 0 of σ′ at column 0; null: σ′ not wanted.</summary>
    public float* Derivative;
    public long DerivativeStride;
    /// <summary>(activation struct, values in place, derivative or null, count).</summary>
    public delegate*<void*, float*, float*, int, void> Activate;
    public void* Activation;

    /// <summary>Applies the epilogue to the tile C[row.., col..] of rows × cols, whose first element is at <paramref name="c"/>.</summary>
    public readonly void Apply(float* c, long ldc, int row, int col, int rows, int cols)
    {
        for (int r = 0; r < rows; r++)
        {
            float* cr = c + r * ldc;
            if (Addend != null)
            {
                VectorDriver.Map(new AddOp<float>(), cr, Addend + (row + r) * AddendStride + col, cr, cols);
            }
            Activate(Activation, cr, Derivative == null ? null : Derivative + (row + r) * DerivativeStride + col, cols);
        }
    }
}
