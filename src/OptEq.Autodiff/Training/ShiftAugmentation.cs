namespace OptEq.Autodiff.Training;

/// <summary>
/// Random translations of square images by up to ±s pixels, filled with the background value. Deterministic: the
/// shift of each sample depends only on (seed, epoch, sample index), so a resumed run sees the same images.
/// </summary>
internal static class ShiftAugmentation
{
    public static void Shift(ReadOnlySpan<float> image, Span<float> output, int side, int dx, int dy, float background)
    {
        for (int r = 0; r < side; r++)
        {
            int sr = r - dy;
            for (int c = 0; c < side; c++)
            {
                int sc = c - dx;
                output[r * side + c] = (uint)sr < (uint)side && (uint)sc < (uint)side ? image[sr * side + sc] : background;
            }
        }
    }

    /// <summary>A shift in [−max, max] from a hash of (seed, epoch, index, axis): no shared RNG state to save.</summary>
    public static int Draw(int seed, int epoch, int index, int axis, int max)
    {
        ulong h = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL ^ (ulong)(uint)epoch * 0xC2B2AE3D27D4EB4FUL ^ (ulong)(uint)index * 0x165667B19E3779F9UL ^ (ulong)axis;
        h ^= h >> 33; h *= 0xFF51AFD7ED558CCDUL; h ^= h >> 33; h *= 0xC4CEB9FE1A85EC53UL; h ^= h >> 33;
        return (int)(h % (ulong)(2 * max + 1)) - max;
    }
}
