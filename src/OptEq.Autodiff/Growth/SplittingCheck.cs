using OptEq.Autodiff.Models;
using OptEq.Kernels.Activations;
using OptEq.Solvers;

namespace OptEq.Autodiff.Growth;

/// <summary>One kind's splitting check: the ε = 0 split's largest output change, and predicted against measured loss change.</summary>
public sealed record SplittingCheckResult(string Kind, double OutputChange, double PredictedDLoss, double MeasuredDLoss, bool Ok, double Epsilon, double Lambda, int Neuron);

/// <summary>
/// Checks the splitting theory on small float64 models with synthetic data (docs/math.md §5.7): for each kind, the
/// split with ε = 0 leaves the logits unchanged (≤ 1e-9), and the split along the exact v_min with ε = 1e-3 changes the
/// mean loss by (ε²/2)·λ_min within 10 % (signed: −ε²·λ_max). σ″ is the true one (no surrogate): the dense kinds use
/// tanh, the OptEq unit ReLU, whose splitting matrix has no σ″ term at all.
/// </summary>
public static class SplittingCheck
{
    public const double Epsilon = 1e-3;
    public const double OutputTolerance = 1e-9;
    public const double RelativeTolerance = 0.1;

    public static IReadOnlyList<SplittingCheckResult> RunAll(Device device) => [Dense(device, signed: false), Dense(device, signed: true), OptEqUnit(device)];

    public static SplittingCheckResult Dense(Device device, bool signed)
    {
        var config = new ModelConfig { Model = ModelKind.Mlp, Input = 5, Classes = 3, Layers = [6], Activation = Activation.Tanh, Seed = 3 };
        return Run(device, signed ? "dense-signed" : "dense", config, signed);
    }

    public static SplittingCheckResult OptEqUnit(Device device)
    {
        var config = new ModelConfig
        {
            Model = ModelKind.OptEq, Input = 5, Classes = 3, Hidden = 6, Activation = Activation.ReLU, Gamma = 0.8, Seed = 3,
            ForwardTolerance = 1e-14, ForwardMaxIterations = 2000, BackwardTolerance = 1e-14, BackwardMaxIterations = 2000,
        };
        return Run(device, "optEq-unit", config, signed: false);
    }

    private static SplittingCheckResult Run(Device device, string kind, ModelConfig config, bool signed)
    {
        const int samples = 64;
        var rng = new Random(11);
        var x = new double[samples * config.Input];
        for (int i = 0; i < x.Length; i++) x[i] = 2 * rng.NextDouble() - 1;
        var y = Enumerable.Range(0, samples).Select(_ => rng.Next(config.Classes)).ToArray();
        using var images = device.FromArray<double>(x, samples, config.Input);
        using var labels = device.FromArray<int>(y, samples);
        using var model = new Classifier<double>(device, config);
        var layer = SplittingAnalysis.Analyse(device, model, images, labels, surrogate: false)[0];
        NeuronEigen[] eigen;
        using (layer.Operator) eigen = MinimumEigen.Exact(device, layer.Operator);
        int neuron = signed
            ? Enumerable.Range(0, eigen.Length).MaxBy(i => eigen[i].LambdaMax)
            : Enumerable.Range(0, eigen.Length).MinBy(i => eigen[i].LambdaMin);
        var decision = new SplitDecision(layer.Target, neuron, signed ? eigen[neuron].VMax : eigen[neuron].VMin, signed);
        double lambda = signed ? eigen[neuron].LambdaMax : eigen[neuron].LambdaMin;
        double predicted = signed ? -Epsilon * Epsilon * lambda : 0.5 * Epsilon * Epsilon * lambda;

        var (before, logitsBefore) = Evaluate(device, model, images, labels);
        var (sameConfig, same) = NeuronSplitter.Split(model, [decision], 0);
        using var duplicate = NeuronSplitter.Build<double>(device, sameConfig, same);
        var (_, logitsSame) = Evaluate(device, duplicate, images, labels);
        double outputChange = logitsBefore.Zip(logitsSame, (a, b) => Math.Abs(a - b)).Max();
        var (splitConfig, split) = NeuronSplitter.Split(model, [decision], Epsilon);
        using var grown = NeuronSplitter.Build<double>(device, splitConfig, split);
        var (after, _) = Evaluate(device, grown, images, labels);
        double measured = after - before;
        bool ok = outputChange <= OutputTolerance && predicted < 0 && Math.Abs(measured - predicted) <= RelativeTolerance * Math.Abs(predicted);
        return new SplittingCheckResult(kind, outputChange, predicted, measured, ok, Epsilon, lambda, neuron);
    }

    /// <summary>Mean cross-entropy and logits of a model on a batch, in float64 without recording.</summary>
    public static (double Loss, double[] Logits) Evaluate(Device device, Classifier<double> model, Tensor<double> images, Tensor<int> labels)
    {
        using var tape = Tape<double>.NoGrad(device);
        var logits = model.Forward(tape.Constant(images));
        var loss = Ops.SoftmaxCrossEntropy(logits, labels, out _);
        return (loss.Value.ToArray()[0], logits.Value.ToArray());
    }
}
