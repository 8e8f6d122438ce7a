using System.CommandLine;
using OptEq.Cli.Bench;

namespace OptEq.Cli.Commands;

/// <summary><c>opteq bench step</c> and <c>opteq bench epoch</c>.</summary>
public static class BenchTrainingCommands
{
    public static Command Step()
    {
        var json = CommonOptions.Json();
        var device = CommonOptions.Device();
        var steps = new Option<int>("--steps") { Description = "Timed steps (after 2 s of warm-up steps).", DefaultValueFactory = _ => 50 };
        var peerSteps = new Option<int>("--peer-steps") { Description = "Timed steps of the PyTorch peer, after 5 warm-up steps (0: do not run it).", DefaultValueFactory = _ => 20 };
        var command = new Command("step", "Time one full OptEq training step (batch 128, 784 → 512, 30 Anderson + 30 adjoint iterations, Adam), and the same step in PyTorch.")
            { json, device, steps, peerSteps };
        command.SetAction(parse =>
        {
            int s = parse.GetValue(steps), p = parse.GetValue(peerSteps);
            if (s < 1) throw new ArgumentException($"--steps must be ≥ 1, got {s}");
            if (p < 0) throw new ArgumentException($"--peer-steps must be ≥ 0, got {p}");
            return TrainingBench.Step(parse.GetValue(device), s, p, parse.GetValue(json));
        });
        return command;
    }

    public static Command Epoch()
    {
        var json = CommonOptions.Json();
        var device = CommonOptions.Device();
        var data = new Option<string?>("--data") { Description = "A folder with train/t10k IDX files; default: the bundled MNIST." };
        var command = new Command("epoch", "Time one epoch of the default MNIST model, and samples/s.") { json, device, data };
        command.SetAction(parse => TrainingBench.Epoch(parse.GetValue(device), parse.GetValue(data), parse.GetValue(json)));
        return command;
    }
}
