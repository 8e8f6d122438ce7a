using System.CommandLine;
using OptEq.Cli.Bench;
using OptEq.Solvers;

namespace OptEq.Cli.Commands;

/// <summary><c>opteq bench solvers</c>: iterations and time of every solver to a relative residual on OptEq problems.</summary>
public static class BenchSolversCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json();
        var device = CommonOptions.Device();
        var batch = new Option<int>("--batch") { Description = "Samples per problem.", DefaultValueFactory = _ => 128 };
        var hidden = new Option<int[]>("--hidden") { Description = "Hidden sizes.", DefaultValueFactory = _ => [256, 1024], AllowMultipleArgumentsPerToken = true };
        var rho = new Option<double[]>("--rho") { Description = "ρ = ||W||₂² values in [0, 1).", DefaultValueFactory = _ => [0.9, 0.99], AllowMultipleArgumentsPerToken = true };
        var activations = new Option<string[]>("--activation") { Description = "Activations (relu, tanh, …).", DefaultValueFactory = _ => ["relu", "tanh"], AllowMultipleArgumentsPerToken = true };
        var solvers = new Option<string[]>("--solvers")
        {
            Description = $"Forward solvers; valid: {string.Join(", ", SolverRegistry.Forward.Names)}.",
            // Halpern and hybrid steepest descent choose among equilibria at an O(1/k) rate; ask for them by name.
            DefaultValueFactory = _ => ["picard", "anderson", "broyden", "fista", "forward-backward", "peaceman-rachford"],
            AllowMultipleArgumentsPerToken = true,
        };
        var adjoints = new Option<string[]>("--adjoints") { Description = $"Adjoint solvers; valid: {string.Join(", ", SolverRegistry.Adjoint.Names)}.", DefaultValueFactory = _ => ["fixed-point", "anderson", "cg"], AllowMultipleArgumentsPerToken = true };
        var maxIterations = new Option<int>("--max-iterations") { Description = "Iteration cap per solve.", DefaultValueFactory = _ => 2000 };
        var tolerance = new Option<double>("--tolerance") { Description = "Relative residual to reach.", DefaultValueFactory = _ => 1e-4 };
        var solversFrom = new Option<string[]>("--solvers-from")
        {
            Description = "Assemblies (.dll) whose public IForwardSolver classes (parameterless constructor) are registered and benched beside --solvers.",
            AllowMultipleArgumentsPerToken = true,
        };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Bench on a trained opteq model's equilibrium problems (its test images through its own map) instead of synthetic ones." };
        var data = new Option<string?>("--data") { Description = "With --checkpoint: a folder with train/t10k IDX files; default: the bundled MNIST." };
        var samples = new Option<int>("--samples") { Description = "With --checkpoint: test images in the batch.", DefaultValueFactory = _ => 256 };
        var command = new Command("solvers", "Iterations and milliseconds of each forward and adjoint solver to reach a relative residual on OptEq problems (synthetic, or a checkpoint's).")
        {
            json, device, batch, hidden, rho, activations, solvers, adjoints, maxIterations, tolerance, solversFrom, checkpoint, data, samples,
        };
        command.SetAction(parse =>
        {
            var names = parse.GetValue(solvers)!.ToList();
            // The same file named twice is loaded once, not reported as a clash with itself.
            foreach (var path in (parse.GetValue(solversFrom) ?? []).DistinctBy(Path.GetFullPath))
                foreach (var loaded in SolverAssemblyLoader.Load(path, SolverRegistry.Forward))
                    if (!names.Contains(loaded.Name, StringComparer.OrdinalIgnoreCase)) names.Add(loaded.Name);
            var forward = names.Select(n => SolverRegistry.Forward[n]).ToArray();
            if (parse.GetValue(checkpoint) is { } file)
                return CheckpointSolverBench.Run(new CheckpointSolverBench.Settings(file, parse.GetValue(data), parse.GetValue(samples), forward,
                    parse.GetValue(maxIterations), parse.GetValue(tolerance), parse.GetValue(json), parse.GetValue(device)));
            return SolverBench.Run(new SolverBench.Settings(
                parse.GetValue(batch), parse.GetValue(hidden)!, parse.GetValue(rho)!, parse.GetValue(activations)!,
                forward, parse.GetValue(adjoints)!.Select(n => SolverRegistry.Adjoint[n]).ToArray(),
                parse.GetValue(maxIterations), parse.GetValue(tolerance), parse.GetValue(json), parse.GetValue(device)));
        });
        return command;
    }
}
