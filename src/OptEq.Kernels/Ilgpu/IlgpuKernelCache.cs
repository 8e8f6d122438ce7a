using System.Collections.Concurrent;
using ILGPU.Runtime;

namespace OptEq.Kernels.Ilgpu;

/// <summary>
/// Loads each kernel once per accelerator and keeps the launcher: a solver iteration never compiles or loads.
/// Keys are the kernel's name and the generic arguments it was specialised for.
/// </summary>
internal sealed class IlgpuKernelCache(Accelerator accelerator)
{
    private readonly ConcurrentDictionary<(string, Type, Type?), Delegate> _launchers = new();

    public Accelerator Accelerator => accelerator;

    /// <summary>
    /// The cached launcher for (name, T, TExtra), built by <paramref name="load"/> on first use. A hit allocates nothing:
    /// the factory's state goes in as an argument, not in a closure (a closure cost ~80 bytes per launch).
    /// </summary>
    public TDelegate Get<TDelegate>(string name, Type elementType, Type? extra, Func<Accelerator, TDelegate> load) where TDelegate : Delegate
        => (TDelegate)_launchers.GetOrAdd((name, elementType, extra), static (_, state) => state.Load(state.Accelerator), (Load: load, Accelerator: accelerator));

    public int Count => _launchers.Count;
}
