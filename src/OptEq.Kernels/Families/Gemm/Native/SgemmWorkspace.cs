using System.Runtime.CompilerServices;

namespace OptEq.Kernels.Native;

/// <summary>
/// Packing buffers of one thread: grown when a larger block is first needed, then reused, so steady-state calls allocate
/// nothing. Pinned arrays (not native memory) so a thread's buffers are freed with it; aligned to 64 bytes by hand.
/// </summary>
internal sealed unsafe class SgemmWorkspace
{
    [ThreadStatic] private static SgemmWorkspace? t_current;

    /// <summary>Floats past the end of each buffer that packing may write into (its 16-float stores overhang).</summary>
    private const int Slack = 16;

    private float[]? _aArray, _bArray;
    private int _aCapacity, _bCapacity;

    public static SgemmWorkspace ForCurrentThread => t_current ??= new SgemmWorkspace();

    public float* PackedA { get; private set; }
    public float* PackedB { get; private set; }

    public void Ensure(long aFloats, long bFloats)
    {
        if (aFloats > _aCapacity) PackedA = Allocate(ref _aArray, ref _aCapacity, aFloats);
        if (bFloats > _bCapacity) PackedB = Allocate(ref _bArray, ref _bCapacity, bFloats);
    }

    private static float* Allocate(ref float[]? array, ref int capacity, long floats)
    {
        array = GC.AllocateUninitializedArray<float>(checked((int)floats + Slack + 16), pinned: true);
        capacity = (int)floats;
        var address = (nint)Unsafe.AsPointer(ref array[0]);
        return (float*)((address + 63) & ~(nint)63);
    }
}
