using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace OptEq.Kernels.Native;

/// <summary>
/// Pulls the next sample's floats toward the cache a few lines at a time while the current sample computes. The
/// convolution kernels first touch a sample's input when they stage it (channels-last, polyphase planes), and a batch of
/// samples does not fit in L2: that first read ran at memory speed with the cores otherwise idle (<c>perf</c> put the
/// staging at a sixth of the stride-2 passes). Spreading the prefetches over the current sample's register blocks
/// overlaps the read with the products, and keeps few misses in flight at once.
/// </summary>
internal unsafe struct NextSamplePrefetch
{
    private const int Line = 64;
    private byte* _next;
    private readonly byte* _end;
    private readonly int _perStep;

    /// <summary>The <paramref name="floats"/> floats from <paramref name="start"/> (null: nothing) over about <paramref name="steps"/> calls of <see cref="Step"/>.</summary>
    public NextSamplePrefetch(float* start, long floats, int steps)
    {
        _next = (byte*)start;
        _end = start == null ? _next : (byte*)(start + floats);
        long lines = (_end - _next + Line - 1) / Line;
        _perStep = (int)Math.Min(64, lines / Math.Max(1, steps) + 1);
    }

    /// <summary>Issue the next few prefetches (into L2: the sample is larger than L1, and staging reads it soon).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Step()
    {
        for (int k = 0; k < _perStep && _next < _end; k++, _next += Line) Sse.Prefetch1(_next);
    }
}
