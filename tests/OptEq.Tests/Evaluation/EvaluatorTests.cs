using NUnit.Framework;
using OptEq.Autodiff;
using OptEq.Autodiff.Evaluation;
using OptEq.Autodiff.Models;
using OptEq.Kernels.Native;
using OptEq.Tests.Training;

namespace OptEq.Tests.Evaluation;

public class EvaluatorTests
{
    [Test]
    public void ArgmaxTakesTheFirstOfEqualMaximaAndNeverNaN()
    {
        Assert.That(Predictions.Argmax([1f, 3f, 3f, 2f]), Is.EqualTo(1));
        Assert.That(Predictions.Argmax([float.NaN, 1f, 0f]), Is.EqualTo(0), "NaN compares false: the first index stays");
        Assert.That(Predictions.Argmax([0f, float.NaN, 1f]), Is.EqualTo(2));
        var confusion = new int[3, 3];
        int correct = Predictions.CountCorrect([0f, 1f, 0f, /**/ 5f, 0f, 0f, /**/ 0f, 0f, 9f], [1, 2, 2], 3, confusion);
        Assert.That(correct, Is.EqualTo(2));
        Assert.That(confusion, Is.EqualTo(new int[,] { { 0, 0, 0 }, { 0, 1, 0 }, { 1, 0, 1 } }));
    }

    /// <summary>The evaluator against a plain loop written here: its own batches, forward passes, argmax and sums.</summary>
    [TestCase("opteq")]
    [TestCase("mon")]
    public void AgreesWithAPlainReference(string kind)
    {
        using var device = new NativeCpuDevice();
        var data = TrainerTests.Synthetic("test", 70, 2); // batches of 32, 32 and 6
        using var model = new Classifier<float>(device, new ModelConfig { Model = ModelKind.Parse(kind), Input = 36, Classes = 3, Hidden = 10, Seed = 5 });
        const int batchSize = 32;
        var confusion = new int[3, 3];
        double lossSum = 0;
        int correct = 0;
        var iterations = new List<int>();
        var residuals = new List<double>();
        var bounds = new List<double>();
        for (int start = 0; start < data.Count; start += batchSize)
        {
            int count = Math.Min(batchSize, data.Count - start);
            using var x = device.FromArray(data.Images.AsSpan(start * 36, count * 36).ToArray(), count, 36);
            using var y = device.FromArray(data.Labels.AsSpan(start, count).ToArray(), count);
            using var tape = Tape<float>.NoGrad(device);
            var logits = model.Forward(tape.Constant(x));
            lossSum += Ops.SoftmaxCrossEntropy(logits, y, out _).Value.ToArray()[0] * count;
            var host = logits.Value.ToArray();
            for (int s = 0; s < count; s++)
            {
                int best = 0;
                for (int c = 1; c < 3; c++) if (host[s * 3 + c] > host[s * 3 + best]) best = c;
                int label = data.Labels[start + s];
                confusion[label, best]++;
                if (best == label) correct++;
            }
            iterations.AddRange(model.Report.ForwardSampleIterations);
            residuals.AddRange(model.Report.ForwardRelResidual);
            if (model.Report.ForwardDistanceBound is { } b) bounds.AddRange(b);
        }
        using var evaluator = new Evaluator(device, model, batchSize);
        for (int round = 0; round < 2; round++) // the second call reuses the evaluator's buffers
        {
            var result = evaluator.Evaluate(data);
            Assert.That(result.Samples, Is.EqualTo(70));
            Assert.That(result.Confusion, Is.EqualTo(confusion));
            Assert.That(result.Accuracy, Is.EqualTo(correct / 70.0));
            Assert.That(result.Loss, Is.EqualTo(lossSum / 70));
            Assert.That(result.Forward.Samples, Is.EqualTo(70));
            Assert.That(result.Forward.MeanIterations, Is.EqualTo(iterations.Sum() / 70.0).Within(1e-12));
            Assert.That(result.Forward.MaxIterations, Is.EqualTo(iterations.Max()));
            Assert.That(result.Forward.MaxRelResidual, Is.EqualTo(residuals.Max()));
            Assert.That(result.Forward.MedianRelResidual, Is.EqualTo(residuals.Order().ElementAt(35)));
            if (kind == "opteq")
            {
                Assert.That(result.Forward.MaxDistanceBound, Is.EqualTo(bounds.Max()));
                Assert.That(result.Forward.MedianDistanceBound, Is.EqualTo(bounds.Order().ElementAt(35)));
                Assert.That(result.Forward.MeanObjective, Is.Not.Null);
            }
            else Assert.That(result.Forward.MaxDistanceBound, Is.Null, "a monotone DEQ has no certificate");
        }
    }

    /// <summary>After the first evaluation (captures made, buffers sized), the batches allocate nothing; what remains
    /// per call is the result (its confusion matrix) and the median's sorted copies.</summary>
    [Test, NonParallelizable]
    public void AfterTheFirstCallTheBatchesAllocateNothing()
    {
        using var device = new NativeCpuDevice();
        using var model = new Classifier<float>(device, new ModelConfig { Input = 36, Classes = 3, Hidden = 10, Seed = 5 });
        using var evaluator = new Evaluator(device, model, 16);
        long PerCall(int count)
        {
            var data = TrainerTests.Synthetic("test", count, 3);
            evaluator.Evaluate(data); evaluator.Evaluate(data);
            long before = GC.GetAllocatedBytesForCurrentThread(), workers = OptEq.Kernels.Native.WorkerTeam.WorkerAllocatedBytes;
            evaluator.Evaluate(data);
            return GC.GetAllocatedBytesForCurrentThread() - before + (OptEq.Kernels.Native.WorkerTeam.WorkerAllocatedBytes - workers);
        }
        long small = PerCall(2 * 16 + 5), large = PerCall(8 * 16 + 5); // 3 and 9 batches
        // Only the sorted copies for the medians grow with the data (8 bytes a sample for two of them): nothing per batch.
        Assert.That(large - small, Is.EqualTo(2 * 8 * (8 - 2) * 16));
    }

    [Test]
    public void DataOfTheWrongShapeIsAClearError()
    {
        using var device = new NativeCpuDevice();
        using var model = new Classifier<float>(device, new ModelConfig { Input = 784, Classes = 3, Hidden = 10 });
        using var evaluator = new Evaluator(device, model, 16);
        Assert.That(() => evaluator.Evaluate(TrainerTests.Synthetic("test", 20, 1)),
            Throws.TypeOf<OptEq.Kernels.ShapeException>().With.Message.Contains("784 inputs").And.Message.Contains("36 pixels"));
    }
}
