using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace OptEq.Kernels.Native;

/// <summary>
/// Fetches a C tile into L1 while the micro-kernel's k loop runs, so its final loads and stores do not wait for memory.
/// A hint only: x86 has an instruction for it; elsewhere (ARM64 has no .NET intrinsic for PRFM) it does nothing.
/// </summary>
internal static unsafe class SgemmPrefetch
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Tile(float* c, long ldc, int rows)
    {
        if (!Sse.IsSupported) return;
        for (int r = 0; r < rows; r++)
        {
            Sse.Prefetch0(c + r * ldc);
            Sse.Prefetch0(c + r * ldc + 15); // a 16-float row may straddle two cache lines
        }
    }
}
