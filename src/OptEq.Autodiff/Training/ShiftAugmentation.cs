using OptEq.Autodiff.Data;

namespace OptEq.Autodiff.Training;

/// <summary>
/// Random translations of square images by up to ±<c>maxShift</c> pixels, filled with the background value, applied by
/// the <see cref="BatchIterator"/> as it gathers a batch. Deterministic: the shift of each sample depends only on
/// (seed, epoch, sample index), so a resumed run sees the same images.
/// </summary>
public sealed class ShiftAugmentation : ISampleTransform
{
    private readonly int _seed, _maxShift, _side;
    private readonly float _background;

    /// <param name="background">The value of an empty pixel after standardisation: (0 − mean) / std.</param>
    public ShiftAugmentation(int seed, int maxShift, int side, float background)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxShift);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(side);
        (_seed, _maxShift, _side, _background) = (seed, maxShift, side, background);
    }

    /// <summary>Shifts one image. <paramref name="epoch"/> is the iterator's (from 0); the draws are keyed on the
    /// trainer's epoch count (from 1), as they always were, so runs repeat earlier ones.</summary>
    public void Apply(int epoch, int index, ReadOnlySpan<float> image, Span<float> output)
    {
        int trainerEpoch = epoch + 1;
        int dx = Draw(_seed, trainerEpoch, index, 0, _maxShift), dy = Draw(_seed, trainerEpoch, index, 1, _maxShift);
        Shift(image, output, _side, dx, dy, _background);
    }

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
