namespace OptEq.Kernels;

/// <summary>
/// The sizes of one Anderson kernel call: the ring buffers hold <see cref="Memory"/> slots of <see cref="Dimension"/>
/// values per sample, the first <see cref="Used"/> of which hold data, and <see cref="Slot"/> is the one this iteration
/// writes. One struct, so the ILGPU kernels take one argument for all of them.
/// </summary>
public readonly record struct AndersonShape(int Batch, int Memory, int Dimension, int Slot, int Used);
