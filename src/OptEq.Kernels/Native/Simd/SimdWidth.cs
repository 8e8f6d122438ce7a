using System.Runtime.Intrinsics;

namespace OptEq.Kernels.Native;

/// <summary>A SIMD register width in bits (0: scalar code only).</summary>
internal enum VectorWidth
{
    Scalar = 0,
    Bits128 = 128,
    Bits256 = 256,
    Bits512 = 512,
}

/// <summary>
/// The vector width the native backend runs at: the widest the JIT accelerates on this CPU (Vector512 on AVX-512,
/// Vector256 on AVX2, Vector128 on SSE or NEON). The drivers and the GEMM dispatch read <see cref="Current"/> once per
/// call, so tests can lower it (<see cref="Override"/>) and cover every width the hardware accelerates in one run.
/// </summary>
internal static class SimdWidth
{
    /// <summary>The widest width this process's JIT accelerates (see <c>DOTNET_EnableAVX512</c>, <c>DOTNET_EnableAVX2</c>).</summary>
    public static VectorWidth Hardware { get; } =
        Vector512.IsHardwareAccelerated ? VectorWidth.Bits512
        : Vector256.IsHardwareAccelerated ? VectorWidth.Bits256
        : Vector128.IsHardwareAccelerated ? VectorWidth.Bits128
        : VectorWidth.Scalar;

    private static VectorWidth s_current = Hardware;

    /// <summary>The width the native kernels use now: <see cref="Hardware"/> unless a test lowered it.</summary>
    public static VectorWidth Current => s_current;

    /// <summary>
    /// Test-only: run the native kernels at a narrower width than the hardware's (null: back to <see cref="Hardware"/>).
    /// Process-wide; a width wider than the hardware's is refused (it would run emulated vectors, not a real path).
    /// </summary>
    internal static VectorWidth? Override
    {
        set
        {
            var width = value ?? Hardware;
            if (width > Hardware) throw new ArgumentOutOfRangeException(nameof(value), width, $"this CPU accelerates at most {Hardware}");
            s_current = width;
        }
    }

    /// <summary>Every width this CPU can run, widest first (tests sweep these).</summary>
    public static IReadOnlyList<VectorWidth> Supported { get; } =
        new[] { VectorWidth.Bits512, VectorWidth.Bits256, VectorWidth.Bits128, VectorWidth.Scalar }.Where(w => w <= Hardware).ToArray();

    /// <summary>How <c>opteq devices</c> names a width.</summary>
    public static string Describe(VectorWidth width) => width switch
    {
        VectorWidth.Bits512 => "512-bit (Vector512, AVX-512)",
        VectorWidth.Bits256 => "256-bit (Vector256, AVX2)",
        VectorWidth.Bits128 => System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported ? "128-bit (Vector128, NEON)" : "128-bit (Vector128, SSE)",
        _ => "scalar (no SIMD acceleration)",
    };
}
