// A consumer of the OptEq packages: an OptEq layer and a linear head learn a synthetic 3-class task with Adam, and the
// program exits non-zero unless the loss falls. `.ci/run` runs it against freshly packed packages.
using OptEq.Autodiff;
using OptEq.Autodiff.Layers;
using OptEq.Autodiff.Optimizers;
using OptEq.Kernels;
using OptEq.Kernels.Activations;
using OptEq.Solvers;

const int batch = 48, input = 4, hidden = 12, classes = 3, steps = 25;
try
{
    using var device = DeviceCatalog.Open(args.Length > 0 ? args[0] : "cpu");

    // Classes from the sign pattern of two input coordinates: chance level is ln 3 ≈ 1.10.
    var rng = new Random(3);
    var x = new float[batch * input];
    var labels = new int[batch];
    for (int s = 0; s < batch; s++)
    {
        for (int j = 0; j < input; j++) x[s * input + j] = (float)(rng.NextDouble() * 2 - 1);
        labels[s] = x[s * input] > 0 ? 0 : x[s * input + 1] > 0 ? 1 : 2;
    }
    using var xt = device.FromArray<float>(x, batch, input);
    using var yt = device.FromArray<int>(labels, batch);

    var init = new Random(4);
    using var layer = new OptEqLayer<float>(device, "opteq", new OptEqLayerOptions
    {
        Input = input, Hidden = hidden, Activation = Activation.ReLU, Gamma = 0.9,
        Forward = new SolverOptions { Solver = ForwardSolvers.Anderson, MaxIterations = 12, Tolerance = 1e-3, CheckEvery = 4 },
        Backward = new BackwardOptions
        {
            Adjoint = AdjointSolvers.ConjugateGradient,
            AdjointOptions = new SolverOptions { MaxIterations = 12, Tolerance = 1e-3, CheckEvery = 4 },
        },
    }, init);
    using var head = new Linear<float>(device, "head", hidden, classes, init);
    using var adam = new Adam<float>(layer.Parameters().Concat(head.Parameters()), new AdamOptions { LearningRate = 0.08 });

    var losses = new float[steps];
    for (int step = 0; step < steps; step++)
    {
        adam.ZeroGrad();
        using var tape = new Tape<float>(device);
        var loss = Ops.SoftmaxCrossEntropy(head.Forward(layer.Forward(tape.Constant(xt))), yt, out _);
        tape.Backward(loss);
        adam.Step();
        losses[step] = loss.Value.ToArray()[0];
    }

    Console.WriteLine($"consumer: {device.Name}, {steps} Adam steps, loss {losses[0]:F4} -> {losses[^1]:F4}");
    // Well below both the first loss and chance: the packages' forward solve, adjoint and optimizer all work.
    if (!(losses[^1] < 0.5 * losses[0]) || !(losses[^1] < 0.5))
    {
        Console.Error.WriteLine("consumer: FAILED: the loss did not fall");
        return 1;
    }
    Console.WriteLine("consumer: ok");
    return 0;
}
catch (Exception e)
{
    Console.Error.WriteLine($"consumer: FAILED: {e.GetType().Name}: {e.Message}");
    return 1;
}
