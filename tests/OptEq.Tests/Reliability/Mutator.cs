namespace OptEq.Tests.Reliability;

/// <summary>
/// Deterministic byte-level mutations of a valid file, the kinds a disk, a download or a hostile user produce: bit
/// flips, overwritten bytes, truncation, appended or inserted bytes, a 32- or 64-bit field set to a boundary value,
/// a duplicated or deleted stretch.
/// </summary>
internal sealed class Mutator(int seed)
{
    private readonly Random _rng = new(seed);
    private static readonly long[] Boundaries = [0, 1, -1, int.MaxValue, int.MinValue, uint.MaxValue, long.MaxValue, 1L << 31, 1L << 32, 255, 256];

    public byte[] Mutate(byte[] valid)
    {
        var bytes = new List<byte>(valid);
        int edits = 1 + _rng.Next(3);
        for (int e = 0; e < edits; e++) Apply(bytes);
        return [.. bytes];
    }

    private void Apply(List<byte> b)
    {
        int Position() => b.Count == 0 ? 0 : _rng.Next(b.Count);
        switch (_rng.Next(8))
        {
            case 0 when b.Count > 0: { int p = Position(); b[p] ^= (byte)(1 << _rng.Next(8)); break; }
            case 1 when b.Count > 0: { int p = Position(); b[p] = (byte)_rng.Next(256); break; }
            case 2: { int p = Position(); b.RemoveRange(p, b.Count - p); break; } // truncate
            case 3: { int k = Math.Min(b.Count, 1 + _rng.Next(16)); b.RemoveRange(b.Count - k, k); break; } // lose the last bytes
            case 4: b.AddRange(RandomBytes(1 + _rng.Next(32))); break;
            case 5: b.InsertRange(Position(), RandomBytes(1 + _rng.Next(8))); break;
            case 6 when b.Count >= 8:
            {
                int p = _rng.Next(b.Count - 7);
                long v = Boundaries[_rng.Next(Boundaries.Length)];
                bool big = _rng.Next(2) == 0, wide = _rng.Next(2) == 0;
                var field = wide ? BitConverter.GetBytes(v) : BitConverter.GetBytes((int)v);
                if (big) Array.Reverse(field);
                for (int i = 0; i < field.Length && p + i < b.Count; i++) b[p + i] = field[i];
                break;
            }
            default:
                if (b.Count == 0) break;
                int from = Position(), length = Math.Min(b.Count - from, 1 + _rng.Next(64));
                if (_rng.Next(2) == 0) b.InsertRange(Position(), b.GetRange(from, length));
                else b.RemoveRange(from, length);
                break;
        }
    }

    private byte[] RandomBytes(int n)
    {
        var bytes = new byte[n];
        _rng.NextBytes(bytes);
        return bytes;
    }
}
