using OptEq.Autodiff.Data;
using OptEq.Autodiff.Losses;
using OptEq.Autodiff.Models;

namespace OptEq.Autodiff.Evaluation;

/// <summary>
/// Evaluates a classifier on a dataset in no-grad mode, in dataset order: loss, accuracy, confusion matrix and the
/// forward solves' per-sample iterations, residuals, certificates and objectives, under the loss the model was trained
/// with (its value and its prediction rule: the argmax, or the nearest MMC centre). Used by the trainer after every epoch,
/// by <c>opteq eval</c> and by the benchmarks. The batch buffers, host arrays and the captured inference passes are made
/// once and kept between calls, so after the first call an evaluation allocates nothing per batch.
/// </summary>
public sealed class Evaluator : IDisposable
{
    private readonly Device _device;
    private readonly Classifier<float> _model;
    private readonly DeviceLoss<float> _loss;
    private readonly float[] _logitsHost;
    private readonly List<Capture> _captures = new(2); // at most a full and a partial batch of the current dataset
    private BatchIterator? _batches;
    private Dataset? _batchesOf;
    private int[] _iterations = [];
    private double[] _residuals = [], _bounds = [], _objectives = [];

    /// <param name="loss">The loss the model was trained with (default: the cross-entropy).</param>
    public Evaluator(Device device, Classifier<float> model, int batchSize, ClassificationLoss? loss = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        _device = device;
        _model = model;
        BatchSize = batchSize;
        _loss = new DeviceLoss<float>(device, loss ?? ClassificationLoss.CrossEntropy, model.Config.Classes);
        _logitsHost = new float[batchSize * model.Config.Classes];
    }

    public int BatchSize { get; }

    public ClassificationLoss Loss => _loss.Loss;

    public EvaluationResult Evaluate(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        int classes = _model.Config.Classes;
        if (data.Pixels != _model.Config.Input)
            throw new ShapeException($"the model expects {_model.Config.Input} inputs; {data.Name} has {data.Pixels} pixels per image");
        var batches = BatchesOf(data);
        Reserve(data.Count);
        var confusion = new int[classes, classes];
        double lossSum = 0;
        int correct = 0, solved = 0, residuals = 0, bounded = 0, withObjective = 0;
        foreach (var batch in batches.Epoch(0))
        {
            Tape<float>? recording = null;
            try
            {
                Tensor<float> logits, loss;
                if (_model.SupportsReplay) (logits, loss) = Replayed(batch);
                else
                {
                    // The generic DEQ solves eagerly and cannot be replayed: a no-grad tape per batch.
                    recording = Tape<float>.NoGrad(_device);
                    var forward = _model.Forward(recording.Constant(batch.Images));
                    (logits, loss) = (forward.Value, _loss.Mean(forward, batch.Labels).Value);
                }
                // float × int, then added in double: the order of operations the trainer has always used.
                lossSum += ReadScalar(loss) * batch.Count;
                correct += Predictions.CountCorrect(logits, batch.HostLabels.Span, _logitsHost, confusion, _loss.HostCentres);
            }
            finally { recording?.Dispose(); }
            var report = _model.Report;
            solved = Append(report.ForwardSampleIterations, ref _iterations, solved);
            residuals = Append(report.ForwardRelResidual, ref _residuals, residuals);
            if (report.ForwardDistanceBound is { } bound) bounded = Append(bound, ref _bounds, bounded);
            if (report.ForwardObjective is { } objective) withObjective = Append(objective, ref _objectives, withObjective);
        }
        return new EvaluationResult
        {
            Samples = data.Count,
            Loss = lossSum / data.Count,
            Accuracy = correct / (double)data.Count,
            Confusion = confusion,
            Forward = Statistics(solved, residuals, bounded, withObjective),
        };
    }

    /// <summary>
    /// The inference pass of a batch, captured on the first batch of its shape (the iterator hands out the same full and
    /// partial tensors every time) and replayed after: the same computation, without building a graph or allocating.
    /// </summary>
    private (Tensor<float> Logits, Tensor<float> Loss) Replayed(in Batch batch)
    {
        foreach (var c in _captures)
            if (ReferenceEquals(c.Images, batch.Images) && ReferenceEquals(c.Labels, batch.Labels))
            {
                c.Tape.ReplayForward();
                return (c.Logits.Value, c.Loss.Value);
            }
        var tape = Tape<float>.ForInferenceReplay(_device);
        var logits = _model.Forward(tape.Constant(batch.Images));
        var loss = _loss.Mean(logits, batch.Labels);
        _captures.Add(new Capture(tape, batch.Images, batch.Labels, logits, loss));
        return (logits.Value, loss.Value);
    }

    private sealed record Capture(Tape<float> Tape, Tensor<float> Images, Tensor<int> Labels, Variable<float> Logits, Variable<float> Loss);

    private SolveStatistics Statistics(int solved, int residualCount, int bounded, int withObjective)
    {
        var iterations = new ArraySegment<int>(_iterations, 0, solved);
        var residuals = new ArraySegment<double>(_residuals, 0, residualCount);
        var bounds = new ArraySegment<double>(_bounds, 0, bounded);
        return new SolveStatistics
        {
            Samples = solved,
            MeanIterations = solved == 0 ? 0 : iterations.Average(),
            MaxIterations = solved == 0 ? 0 : iterations.Max(),
            MedianRelResidual = Median(residuals),
            MaxRelResidual = residualCount == 0 ? 0 : residuals.Max(),
            MedianDistanceBound = bounded == 0 ? null : Median(bounds),
            MaxDistanceBound = bounded == 0 ? null : bounds.Max(),
            MeanObjective = withObjective == 0 ? null : new ArraySegment<double>(_objectives, 0, withObjective).Average(),
        };
    }

    /// <summary>The upper median (the element at Count / 2 once sorted); 0 for none.</summary>
    private static double Median(ArraySegment<double> values)
    {
        if (values.Count == 0) return 0;
        var sorted = values.ToArray();
        Array.Sort(sorted);
        return sorted[sorted.Length / 2];
    }

    private BatchIterator BatchesOf(Dataset data)
    {
        if (!ReferenceEquals(_batchesOf, data))
        {
            DisposeCaptures();
            _batches?.Dispose();
            _batches = new BatchIterator(_device, data, BatchSize, seed: 0, dropLast: false, shuffle: false);
            _batchesOf = data;
        }
        return _batches!;
    }

    private void Reserve(int count)
    {
        if (_iterations.Length >= count) return;
        _iterations = new int[count];
        _residuals = new double[count];
        _bounds = new double[count];
        _objectives = new double[count];
    }

    /// <summary>Copies a batch's per-sample results after the <paramref name="used"/> already kept; returns the new count.</summary>
    private static int Append<TValue>(TValue[] values, ref TValue[] into, int used)
    {
        if (used + values.Length > into.Length) Array.Resize(ref into, Math.Max(used + values.Length, 2 * into.Length));
        values.CopyTo(into, used);
        return used + values.Length;
    }

    private static float ReadScalar(Tensor<float> scalar)
    {
        Span<float> host = stackalloc float[1];
        scalar.CopyTo(host);
        return host[0];
    }

    private void DisposeCaptures()
    {
        foreach (var c in _captures) c.Tape.Dispose();
        _captures.Clear();
    }

    public void Dispose()
    {
        DisposeCaptures();
        _batches?.Dispose();
        _batches = null;
        _batchesOf = null;
        _loss.Dispose();
    }
}
