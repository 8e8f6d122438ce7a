using System.Numerics;

namespace OptEq.Kernels;

/// <summary>
/// The entries of Anderson's bordered system, written once as scalar code that both backends' system kernels call
/// (public because ILGPU compiles only public code). Tests check the kernels against a plain construction of their own.
/// </summary>
public static class AndersonBordered
{
    /// <summary>Element (r, c) of Anderson's bordered system for m slots of which <paramref name="used"/> hold data (docs/math.md §4.2).</summary>
    public static T Entry<T>(int r, int c, int m, int used, T ridge, T meanDiagonal, T gramRC) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (r == 0 && c == 0) return T.Zero;
        if (r == 0) return c <= used ? T.One : T.Zero;
        if (c == 0) return r <= used ? T.One : T.Zero;
        if (r > used || c > used) return r == c ? T.One : T.Zero; // an unused slot: identity row, zero weight
        return r == c ? gramRC + ridge * meanDiagonal : gramRC;
    }
}
