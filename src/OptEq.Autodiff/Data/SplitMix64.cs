namespace OptEq.Autodiff.Data;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood 2014): a tiny generator whose output depends only on its 64-bit state, so a
/// shuffle is reproducible on any runtime version (System.Random's seeded sequence is not a documented contract).
/// </summary>
internal struct SplitMix64(ulong state)
{
    private ulong _state = state;

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, bound) without modulo bias (Lemire's multiply-and-reject).</summary>
    public int NextInt(int bound)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bound);
        ulong n = (ulong)bound;
        ulong threshold = (0UL - n) % n;
        while (true)
        {
            UInt128 m = (UInt128)Next() * n;
            if ((ulong)m >= threshold) return (int)(m >> 64);
        }
    }
}
