using System.Runtime.CompilerServices;

namespace OptEq.Kernels;

/// <summary>
/// The kernel-family registry. A family (a folder of Families/) declares a backend interface; each backend registers
/// one object implementing it in its constructor, and the family's public entry finds it with <see cref="Family{TFamily}"/>:
/// an array index fixed per interface type, so a launch does no dictionary lookup and allocates nothing.
/// A family defined outside this assembly registers the same way on a device it is given.
/// </summary>
public abstract partial class Device
{
    private object?[] _families = [];

    /// <summary>Makes <paramref name="kernels"/> this device's implementation of the family <typeparamref name="TFamily"/> (replacing any earlier one).</summary>
    public void Register<TFamily>(TFamily kernels) where TFamily : class
    {
        ArgumentNullException.ThrowIfNull(kernels);
        int slot = FamilySlot<TFamily>.Index;
        if (slot >= _families.Length) Array.Resize(ref _families, Math.Max(slot + 1, _families.Length * 2));
        _families[slot] = kernels;
    }

    /// <summary>True when this device has an implementation of <typeparamref name="TFamily"/>.</summary>
    public bool Supports<TFamily>() where TFamily : class
    {
        int slot = FamilySlot<TFamily>.Index;
        return slot < _families.Length && _families[slot] is not null;
    }

    /// <summary>This device's implementation of the family <typeparamref name="TFamily"/>.</summary>
    public TFamily Family<TFamily>() where TFamily : class
    {
        int slot = FamilySlot<TFamily>.Index;
        var kernels = slot < _families.Length ? _families[slot] : null;
        if (kernels is null) ThrowMissingFamily(typeof(TFamily));
        return Unsafe.As<TFamily>(kernels!); // Register stored exactly this type
    }

    private void ThrowMissingFamily(Type family) =>
        throw new NotSupportedException($"{Id}: no implementation of the kernel family {family.Name} is registered on this device");

    private static class FamilySlots
    {
        private static int _count;
        public static int Next() => Interlocked.Increment(ref _count) - 1;
    }

    /// <summary>One slot per family interface, assigned on first use.</summary>
    private static class FamilySlot<TFamily> where TFamily : class
    {
        public static readonly int Index = FamilySlots.Next();
    }
}
