using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace OptEq.Kernels.Native;

/// <summary>
/// Pulls two ranges of memory toward the cache (into L2) a few lines at a time while the current sample computes: the
/// next sample's input and, where the pass writes a large output, the lines it is about to write. The convolution
/// kernels first touch a sample's input when they stage it (channels-last, padded planes), and a batch does not fit in
/// L2: that first read ran at memory speed with the cores otherwise idle. Likewise the first write of an output line
/// waits for the line to be read in. Spreading the prefetches over the current sample's register blocks overlaps both
/// with the products and keeps few misses in flight at once.
/// </summary>
internal unsafe struct SamplePrefetch
{
    private const int Line = 64;
    private byte* _next, _end;
    private byte* _then;
    private readonly byte* _thenEnd;
    private readonly int _perStep;

    /// <summary>
    /// The <paramref name="floats"/> floats from <paramref name="start"/>, then the <paramref name="thenFloats"/> from
    /// <paramref name="then"/> (either null: nothing; the lines to be written first, as they are needed first), over about <paramref name="steps"/> calls of <see cref="Step"/>.
    /// </summary>
    public SamplePrefetch(float* start, long floats, float* then, long thenFloats, int steps)
    {
        _next = (byte*)start;
        _end = start == null ? _next : (byte*)(start + floats);
        _then = (byte*)then;
        _thenEnd = then == null ? _then : (byte*)(then + thenFloats);
        long lines = (_end - _next + _thenEnd - _then + 2 * Line) / Line;
        _perStep = (int)Math.Min(64, lines / Math.Max(1, steps) + 1);
    }

    /// <summary>Issue the next few prefetches.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Step()
    {
        for (int k = 0; k < _perStep; k++, _next += Line)
        {
            if (_next >= _end)
            {
                if (_then >= _thenEnd) return;
                _next = _then;
                _end = _thenEnd;
                _then = _thenEnd;
            }
            Sse.Prefetch1(_next);
        }
    }
}
