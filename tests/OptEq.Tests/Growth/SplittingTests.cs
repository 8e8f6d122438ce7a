using NUnit.Framework;
using OptEq.Autodiff;
using OptEq.Autodiff.Data;
using OptEq.Autodiff.Growth;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Training;
using OptEq.Kernels;
using OptEq.Kernels.Activations;
using OptEq.Kernels.Native;
using OptEq.Tests.Data;

namespace OptEq.Tests.Growth;

/// <summary>The splitting theory of docs/math.md §5 checked numerically, and growth that ends in a loadable checkpoint.</summary>
public sealed class SplittingTests
{
    private NativeCpuDevice _device = null!;

    [OneTimeSetUp] public void Open() => _device = new NativeCpuDevice();
    [OneTimeTearDown] public void Close() => _device.Dispose();

    // docs/math.md §5.7: ε = 1e-3 in float64; the O(ε³) remainder is ~1e-3 of the prediction, so 10 % is a wide bar
    // that still fails if any term of S (the σ″ term, the OptEq cross term or its rescaling shift) were wrong or missing.
    [TestCase("dense")]
    [TestCase("dense-signed")]
    [TestCase("optEq-unit")]
    public void SplitKeepsOutputsAndChangesLossAsPredicted(string kind)
    {
        var r = kind switch
        {
            "dense" => SplittingCheck.Dense(_device, signed: false),
            "dense-signed" => SplittingCheck.Dense(_device, signed: true),
            _ => SplittingCheck.OptEqUnit(_device),
        };
        Assert.That(r.OutputChange, Is.LessThanOrEqualTo(1e-9), "ε = 0 split: largest logit change");
        Assert.That(r.PredictedDLoss, Is.LessThan(-1e-10), "the chosen split must predict a real decrease");
        Assert.That(Math.Abs(r.MeasuredDLoss - r.PredictedDLoss), Is.LessThanOrEqualTo(0.1 * Math.Abs(r.PredictedDLoss)),
            $"measured ΔL {r.MeasuredDLoss:e4} vs predicted {r.PredictedDLoss:e4}");
        Assert.That(r.Ok, Is.True);
    }

    [Test]
    public void OptEqPredictionNeedsTheRescalingShift()
    {
        // Without the Frobenius rescaling term the OptEq prediction is off: the shift is a real part of S (docs/math.md §5.6).
        var (model, images, labels) = TinyOptEq(Activation.ReLU);
        using (model) using (images) using (labels)
        {
            var layer = SplittingAnalysis.Analyse(_device, model, images, labels, surrogate: false)[0];
            var cross = layer.Operator.Cross!.Value;
            Assert.That(cross.Shift, Is.Not.EqualTo(0));
            var without = new SplittingOperator(layer.Operator.Samples, layer.Operator.Dim, layer.Operator.Neurons, layer.Operator.Inputs, layer.Operator.Curvature)
            { Cross = (cross.K, cross.A, cross.Slope, 0) };
            var exact = MinimumEigen.Exact(_device, layer.Operator);
            var wrong = MinimumEigen.Exact(_device, without);
            Assert.That(Enumerable.Range(0, exact.Length).Max(i => Math.Abs(exact[i].LambdaMin - wrong[i].LambdaMin)), Is.GreaterThan(1e-6));
        }
    }

    [TestCase(false)]
    [TestCase(true)]
    public void LanczosWithAFullKrylovSpaceMatchesTheExactEigenpairs(bool opteq)
    {
        using var op = opteq ? OptEqOperator() : DenseOperator();
        var exact = MinimumEigen.Exact(_device, op);
        var lanczos = MinimumEigen.Lanczos(op, op.Dim, seed: 5);
        for (int i = 0; i < exact.Length; i++)
        {
            double scale = Math.Max(Math.Abs(exact[i].LambdaMin), Math.Abs(exact[i].LambdaMax));
            Assert.That(lanczos[i].LambdaMin, Is.EqualTo(exact[i].LambdaMin).Within(1e-9 * scale), $"neuron {i} λ_min");
            Assert.That(lanczos[i].LambdaMax, Is.EqualTo(exact[i].LambdaMax).Within(1e-9 * scale), $"neuron {i} λ_max");
            double dot = lanczos[i].VMin.Zip(exact[i].VMin, (a, b) => a * b).Sum();
            Assert.That(Math.Abs(dot), Is.EqualTo(1).Within(1e-6), $"neuron {i} v_min");
        }
    }

    [TestCase(false)]
    [TestCase(true)]
    public void BatchedProductsEqualTheFormedMatrices(bool opteq)
    {
        using var op = opteq ? OptEqOperator() : DenseOperator();
        int h = op.Neurons, d = op.Dim;
        var s = op.FormReference();
        Assert.That(op.Device, Is.Not.Null, "the analysis runs the batched products on the device");
        var onDevice = op.Form();
        for (int t = 0; t < s.Length; t++) Assert.That(onDevice[t], Is.EqualTo(s[t]).Within(1e-12), "device S = reference S");
        var rng = new Random(2);
        var v = Enumerable.Range(0, h * d).Select(_ => rng.NextDouble() - 0.5).ToArray();
        var sv = new double[h * d];
        op.ApplyReference(v, sv);
        var svDevice = new double[h * d];
        op.Apply(v, svDevice);
        for (int t = 0; t < sv.Length; t++) Assert.That(svDevice[t], Is.EqualTo(sv[t]).Within(1e-12), "device S·v = reference S·v");
        for (int i = 0; i < h; i++)
            for (int p = 0; p < d; p++)
            {
                double expected = 0;
                for (int q = 0; q < d; q++)
                {
                    Assert.That(s[(i * d + p) * d + q], Is.EqualTo(s[(i * d + q) * d + p]).Within(1e-15), "S is symmetric");
                    expected += s[(i * d + p) * d + q] * v[i * d + q];
                }
                Assert.That(sv[i * d + p], Is.EqualTo(expected).Within(1e-12));
            }
    }

    [Test]
    public void OptEqUnitWithNonHomogeneousActivationIsRefused()
    {
        var (model, images, labels) = TinyOptEq(Activation.Tanh);
        using (model) using (images) using (labels)
            Assert.That(() => SplittingAnalysis.Analyse(_device, model, images, labels, surrogate: true),
                Throws.ArgumentException.With.Message.Contains("positively homogeneous"));
    }

    [Test]
    public void SignedSplitOfAnOptEqUnitIsRefused()
    {
        var (model, images, labels) = TinyOptEq(Activation.ReLU);
        using (model) using (images) using (labels)
        {
            var layer = SplittingAnalysis.Analyse(_device, model, images, labels, surrogate: true)[0];
            Assert.That(() => SplitSelection.Choose(_device, [layer], GrowthStrategy.Signed, 0.5, 10, 1e-2, 0),
                Throws.ArgumentException.With.Message.Contains("negative output weight"));
        }
    }

    [Test]
    public void GrowthRefusesWhatCannotSplitBeforeTraining()
    {
        ModelSpec Spec(Activation activation, NormKind norm) => new ModelConfig { Model = ModelKind.OptEq, Input = 4, Classes = 3, Hidden = 5, Activation = activation, Norm = norm }.Spec;
        Assert.That(() => GrowthTrainer.Check(Spec(Activation.ReLU, NormKind.Frobenius), GrowthStrategy.Signed), Throws.ArgumentException.With.Message.Contains("dense layers only"));
        Assert.That(() => GrowthTrainer.Check(Spec(Activation.Tanh, NormKind.Frobenius), GrowthStrategy.Splitting), Throws.ArgumentException.With.Message.Contains("positively homogeneous"));
        Assert.That(() => GrowthTrainer.Check(Spec(Activation.ReLU, NormKind.Spectral), GrowthStrategy.Splitting), Throws.ArgumentException.With.Message.Contains("frobenius"));
        Assert.That(() => GrowthTrainer.Check(new ModelConfig { Model = ModelKind.Idl, Input = 4, Classes = 3, Hidden = 5 }.Spec, GrowthStrategy.Splitting),
            Throws.ArgumentException.With.Message.Contains("no growable layer"));
        Assert.That(() => GrowthTrainer.Check(Spec(Activation.ReLU, NormKind.Frobenius), GrowthStrategy.Splitting), Throws.Nothing);
    }

    [TestCase("mlp", GrowthStrategy.Splitting)]
    [TestCase("mlp", GrowthStrategy.Fast)]
    [TestCase("mlp", GrowthStrategy.Signed)]
    [TestCase("mlp", GrowthStrategy.Random)]
    [TestCase("opteq", GrowthStrategy.Splitting)]
    [TestCase("opteq", GrowthStrategy.Random)]
    public void GrowthTrainsSplitsAndSavesALoadableCheckpoint(string kind, GrowthStrategy strategy)
    {
        var (train, test) = SyntheticData();
        var config = new ModelConfig
        {
            Model = kind == "mlp" ? ModelKind.Mlp : ModelKind.OptEq, Input = 16, Classes = 3, Hidden = 4, Layers = [4], Seed = 1,
        };
        var training = new TrainingOptions { Epochs = 3, Batch = 16, LearningRate = 1e-2, AugmentShift = 0, Seed = 1 };
        var growth = new GrowthOptions { Strategy = strategy, Fraction = 0.5, MaxWidth = 7, EpochsPerRound = 1, AnalysisSamples = 48 };
        using var folder = new TempDirectory();
        var grower = new GrowthTrainer(_device, growth, training, train, test);
        using var model = grower.Run(new Classifier<float>(_device, config), checkpointPath: folder.File("grown.safetensors"));
        int width = SplitTarget.Of(model.Spec).Single().Width;
        Assert.That(grower.History, Has.Count.EqualTo(3));
        Assert.That(grower.History.Select(h => h.Epoch), Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(width, Is.GreaterThan(4).And.LessThanOrEqualTo(7), "grew within the maximum width");
        Assert.That(grower.Rounds.Sum(r => r.WidthAfter - r.WidthBefore), Is.EqualTo(width - 4));
        using var loaded = ModelCheckpoint.Load(_device, folder.File("grown.safetensors"));
        Assert.That(loaded.Spec, Is.EqualTo(model.Spec));
        Assert.That(loaded.Config.Model, Is.EqualTo(config.Model));
        using var images = _device.FromArray<float>(test.Images, test.Count, 16);
        Assert.That(Logits(loaded, images), Is.EqualTo(Logits(model, images)));
    }

    private float[] Logits(Classifier<float> model, Tensor<float> images)
    {
        using var tape = Tape<float>.NoGrad(_device);
        return model.Forward(tape.Constant(images)).Value.ToArray();
    }

    private static (Dataset Train, Dataset Test) SyntheticData()
    {
        var rng = new Random(4);
        Dataset Make(int n)
        {
            var labels = Enumerable.Range(0, n).Select(_ => rng.Next(3)).ToArray();
            var images = new float[n * 16];
            for (int s = 0; s < n; s++)
                for (int p = 0; p < 16; p++) images[s * 16 + p] = (float)(rng.NextDouble() - 0.5 + (p % 3 == labels[s] ? 0.8 : 0));
            return new Dataset("synthetic", images, labels, 4, 4, 3);
        }
        return (Make(64), Make(32));
    }

    private (Classifier<double> Model, Tensor<double> Images, Tensor<int> Labels) TinyOptEq(Activation activation)
    {
        var config = new ModelConfig { Model = ModelKind.OptEq, Input = 4, Classes = 3, Hidden = 5, Activation = activation, Gamma = 0.8, Seed = 2, ForwardTolerance = 1e-12, ForwardMaxIterations = 1000 };
        return (new Classifier<double>(_device, config), Images(4), Labels());
    }

    private SplittingOperator DenseOperator()
    {
        var config = new ModelConfig { Model = ModelKind.Mlp, Input = 4, Classes = 3, Layers = [5], Activation = Activation.ReLU, Seed = 2 };
        using var model = new Classifier<double>(_device, config);
        using var images = Images(4);
        using var labels = Labels();
        return SplittingAnalysis.Analyse(_device, model, images, labels, surrogate: true)[0].Operator;
    }

    private SplittingOperator OptEqOperator()
    {
        var (model, images, labels) = TinyOptEq(Activation.ReLU);
        using (model) using (images) using (labels)
            return SplittingAnalysis.Analyse(_device, model, images, labels, surrogate: true)[0].Operator;
    }

    private Tensor<double> Images(int input)
    {
        var rng = new Random(9);
        return _device.FromArray<double>(Enumerable.Range(0, 40 * input).Select(_ => 2 * rng.NextDouble() - 1).ToArray(), 40, input);
    }

    private Tensor<int> Labels()
    {
        var rng = new Random(10);
        return _device.FromArray<int>(Enumerable.Range(0, 40).Select(_ => rng.Next(3)).ToArray(), 40);
    }
}
