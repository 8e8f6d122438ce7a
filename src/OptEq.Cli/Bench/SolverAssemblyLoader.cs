using System.Reflection;
using OptEq.Solvers;

namespace OptEq.Cli.Bench;

/// <summary>
/// Loads forward solvers written outside the library (<c>opteq bench solvers --solvers-from A.dll</c>): every public,
/// non-abstract <see cref="IForwardSolver"/> with a parameterless constructor in the assembly is created and registered
/// under its <see cref="IForwardSolver.Name"/>. Every failure is an <see cref="ArgumentException"/> that names the file.
/// </summary>
public static class SolverAssemblyLoader
{
    /// <summary>Registers the assembly's solvers in <paramref name="registry"/> and returns them, in type-name order.</summary>
    public static IReadOnlyList<IForwardSolver> Load(string path, Registry<IForwardSolver> registry)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(registry);
        string full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new ArgumentException($"--solvers-from: no such file: {path}");
        Assembly assembly;
        try
        {
            // The default context: the solver shares OptEq.Solvers (and its IForwardSolver) with the host, so it is found
            // and called without copies of the library's types.
            assembly = Assembly.LoadFrom(full);
        }
        catch (BadImageFormatException)
        {
            throw new ArgumentException($"--solvers-from: {path} is not a .NET assembly");
        }
        catch (FileLoadException e)
        {
            throw new ArgumentException($"--solvers-from: cannot load {path}: {e.Message}");
        }

        Type[] types;
        try { types = assembly.GetExportedTypes(); }
        catch (Exception e) when (e is ReflectionTypeLoadException or FileNotFoundException or FileLoadException or TypeLoadException)
        {
            throw new ArgumentException($"--solvers-from: cannot read the types of {path} (is it built against this OptEq.Solvers?): {e.Message}");
        }
        var candidates = types
            .Where(t => t is { IsClass: true, IsAbstract: false, ContainsGenericParameters: false } && typeof(IForwardSolver).IsAssignableFrom(t)
                        && t.GetConstructor(Type.EmptyTypes) is not null)
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .ToArray();
        if (candidates.Length == 0)
            throw new ArgumentException($"--solvers-from: {path} holds no public, non-abstract {nameof(IForwardSolver)} with a parameterless constructor");

        var solvers = new List<IForwardSolver>();
        foreach (var type in candidates)
        {
            IForwardSolver solver;
            try { solver = (IForwardSolver)Activator.CreateInstance(type)!; }
            catch (TargetInvocationException e)
            {
                throw new ArgumentException($"--solvers-from: the constructor of {type.FullName} in {path} failed: {e.InnerException?.Message ?? e.Message}");
            }
            string name = solver.Name;
            if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException($"--solvers-from: {type.FullName} in {path} has an empty Name");
            if (registry.TryGet(name, out var existing))
                throw new ArgumentException($"--solvers-from: {type.FullName} in {path} is named '{name}', which {existing.GetType().FullName} already holds; give it another Name");
            // Checked first (above) so that a clash registers none of a half-loaded assembly's later solvers silently.
            solvers.Add(solver);
        }
        var names = solvers.Select(s => s.Name.Trim().ToLowerInvariant()).ToArray();
        if (names.GroupBy(n => n).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new ArgumentException($"--solvers-from: {path} holds more than one solver named '{twice.Key}'");
        foreach (var solver in solvers)
        {
            try { registry.Register(solver.Name, solver); }
            catch (ArgumentException e) { throw new ArgumentException($"--solvers-from: {solver.GetType().FullName} in {path}: {e.Message}"); }
        }
        return solvers;
    }
}
