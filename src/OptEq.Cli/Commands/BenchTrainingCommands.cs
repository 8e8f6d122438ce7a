using System.CommandLine;
using OptEq.Cli.Bench;
using OptEq.Kernels;
using OptEq.Solvers.Operators;

namespace OptEq.Cli.Commands;

/// <summary><c>opteq bench step</c> and <c>opteq bench epoch</c>.</summary>
public static class BenchTrainingCommands
{
    public static Command Step()
    {
        var json = CommonOptions.Json();
        var device = CommonOptions.Device();
        var steps = new Option<int>("--steps") { Description = "Timed steps (after 2 s of warm-up steps; conv models: 3 warm-up steps).", DefaultValueFactory = _ => 50 };
        var peerSteps = new Option<int>("--peer-steps") { Description = "Timed steps of the PyTorch peer, after its warm-up steps (0: do not run it).", DefaultValueFactory = _ => 20 };
        var model = new Option<string>("--model") { Description = "opteq (dense, 784 → 512) or a convolutional model: " + string.Join(", ", ConvStepBench.Models.Keys) + ".", DefaultValueFactory = _ => "opteq" };
        var channels = new Option<int>("--channels") { Description = "Conv models: channels of the equilibrium state.", DefaultValueFactory = _ => 32 };
        var batch = new Option<int>("--batch") { Description = "Conv models: batch size.", DefaultValueFactory = _ => 128 };
        var imageSize = new Option<int>("--image-size") { Description = "Conv models: the side of the (square, one-channel) input image.", DefaultValueFactory = _ => 28 };
        var iterations = new Option<int>("--iterations") { Description = "Conv models: forward and adjoint iterations (tolerance 0 on both sides).", DefaultValueFactory = _ => 20 };
        var padding = new Option<string>("--padding") { Description = "Conv models: zero or circular.", DefaultValueFactory = _ => "zero" };
        var injectionStride = new Option<int>("--injection-stride") { Description = "Conv models: stride of the input convolution.", DefaultValueFactory = _ => 2 };
        var pool = new Option<int>("--pool") { Description = "Conv models: average-pooling window before the head.", DefaultValueFactory = _ => 2 };
        var peerDevice = CommonOptions.PeerDevice();
        var gram = new Option<string>("--gram")
        {
            Description = $"conv-opteq: how the solves apply WᵀW ({GramMethods.NameList}; fourier needs --padding circular; see opteq train --gram). Default auto.",
            DefaultValueFactory = _ => "auto", HelpName = GramMethods.NameList,
        };
        var command = new Command("step", "Time one full training step and the same step in PyTorch: OptEq (batch 128, 784 → 512, 30 Anderson + 30 adjoint iterations, Adam), or a convolutional model with --model.")
            { json, device, steps, peerSteps, model, channels, batch, imageSize, iterations, padding, injectionStride, pool, gram, peerDevice };
        command.SetAction(parse =>
        {
            int s = parse.GetValue(steps), p = parse.GetValue(peerSteps);
            if (s < 1) throw new ArgumentException($"--steps must be ≥ 1, got {s}");
            if (p < 0) throw new ArgumentException($"--peer-steps must be ≥ 0, got {p}");
            string name = parse.GetValue(model)!;
            if (name == "opteq")
            {
                if (parse.GetValue(peerDevice) == "cuda") throw new ArgumentException("--peer-device cuda: the dense OptEq step's peer runs on the CPU; the conv models' peer can run on a GPU");
                return TrainingBench.Step(parse.GetValue(device), s, p, parse.GetValue(json));
            }
            foreach (var (option, value) in new[] { ("--channels", parse.GetValue(channels)), ("--batch", parse.GetValue(batch)), ("--image-size", parse.GetValue(imageSize)), ("--iterations", parse.GetValue(iterations)), ("--injection-stride", parse.GetValue(injectionStride)), ("--pool", parse.GetValue(pool)) })
                if (value < 1) throw new ArgumentException($"{option} must be ≥ 1, got {value}");
            var pad = parse.GetValue(padding) switch
            {
                "zero" => ConvPadding.Zero,
                "circular" => ConvPadding.Circular,
                var other => throw new ArgumentException($"--padding must be zero or circular, got '{other}'"),
            };
            if (!GramMethods.TryParse(parse.GetValue(gram), out var gramMethod))
                throw new ArgumentException($"--gram must be one of {GramMethods.NameList}, got '{parse.GetValue(gram)}'");
            if (name != "conv-opteq" && parse.GetResult(gram) is { Implicit: false })
                throw new ArgumentException($"--gram is a conv-opteq setting; {name} applies its operator as it is");
            if (name != "conv-opteq") gramMethod = GramMethod.Convolutions;
            if (gramMethod == GramMethod.Fourier && pad != ConvPadding.Circular)
                throw new ArgumentException("--gram fourier needs --padding circular: only a circular convolution is diagonalised by the DFT");
            int size = parse.GetValue(imageSize);
            var shape = new ConvStepShape
            {
                Model = name, Channels = parse.GetValue(channels), Batch = parse.GetValue(batch), Size = size, Padding = pad,
                InjectionStride = parse.GetValue(injectionStride), Pool = parse.GetValue(pool), Iterations = parse.GetValue(iterations), AdjointIterations = parse.GetValue(iterations),
                Gram = gramMethod,
            };
            return ConvStepBench.Step(parse.GetValue(device), shape, s, p, parse.GetValue(json), parse.GetValue(peerDevice)!);
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
