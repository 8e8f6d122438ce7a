using System.Diagnostics;

namespace OptEq.Autodiff.Distributed;

/// <summary>
/// Averages the gradients of all ranks before the optimizer step. The parameters' gradients are packed, in parameter
/// order, into a few flat host buffers (buckets) made once, so one allreduce moves many small tensors and a step
/// allocates nothing. Each rank's gradient is the mean over its own shard of the global batch; it is weighted by
/// shard size / global batch size before the sum, so the result is the global batch's mean gradient even when the
/// shards differ in size (or a shard is empty).
/// </summary>
public sealed class GradientBuckets
{
    /// <summary>Default bucket size in floats (4 MiB): large enough that per-call latency is amortised, small enough
    /// that the host copies stay cache-friendly.</summary>
    public const int DefaultBucketFloats = 1 << 20;

    private readonly ITrainingCommunicator _communicator;
    private readonly Bucket[] _buckets;

    private sealed record Bucket(Parameter<float>[] Parameters, float[] Buffer);

    public GradientBuckets(ITrainingCommunicator communicator, IEnumerable<Parameter<float>> parameters, int bucketFloats = DefaultBucketFloats)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bucketFloats);
        _communicator = communicator;
        var buckets = new List<Bucket>();
        var current = new List<Parameter<float>>();
        long filled = 0;
        void Close()
        {
            if (current.Count == 0) return;
            buckets.Add(new Bucket([.. current], new float[filled]));
            current.Clear();
            filled = 0;
        }
        foreach (var p in parameters)
        {
            // A parameter larger than a bucket gets a bucket of its own.
            if (filled > 0 && filled + p.Length > bucketFloats) Close();
            current.Add(p);
            filled += p.Length;
        }
        Close();
        _buckets = [.. buckets];
        Floats = _buckets.Sum(b => (long)b.Buffer.Length);
    }

    public int BucketCount => _buckets.Length;
    /// <summary>Gradient floats reduced per step.</summary>
    public long Floats { get; }
    /// <summary>Steps averaged so far, and the wall time they spent inside allreduce (including waiting for slower ranks).</summary>
    public long Steps { get; private set; }
    public double AllreduceSeconds => _allreduceTicks / (double)Stopwatch.Frequency;
    private long _allreduceTicks;

    /// <summary>
    /// Replaces every gradient by Σ_r (count_r / globalCount) · grad_r over the ranks. <paramref name="localCount"/>
    /// is this rank's shard size (0 allowed: it then contributes zeros, but must still call).
    /// </summary>
    public void Average(int localCount, int globalCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(localCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(globalCount);
        float weight = localCount / (float)globalCount;
        foreach (var bucket in _buckets)
        {
            var buffer = bucket.Buffer.AsSpan();
            int offset = 0;
            foreach (var p in bucket.Parameters)
            {
                var slice = buffer.Slice(offset, (int)p.Length);
                if (localCount == 0) slice.Clear(); // an empty shard's gradients were never written
                else p.Grad.CopyTo(slice);
                offset += slice.Length;
            }
            if (weight != 1f) Scale(buffer, weight);
            long start = Stopwatch.GetTimestamp();
            _communicator.AllReduceSum(buffer);
            _allreduceTicks += Stopwatch.GetTimestamp() - start;
            offset = 0;
            foreach (var p in bucket.Parameters)
            {
                p.Grad.CopyFrom(buffer.Slice(offset, (int)p.Length));
                offset += (int)p.Length;
            }
        }
        Steps++;
    }

    private static void Scale(Span<float> values, float weight)
    {
        for (int i = 0; i < values.Length; i++) values[i] *= weight;
    }

    /// <summary>Overwrites every parameter's value with rank <paramref name="root"/>'s (at the start of a run, so all
    /// ranks begin from the same point whatever their initialisation or checkpoint did).</summary>
    public void BroadcastValues(int root = 0)
    {
        foreach (var bucket in _buckets)
        {
            var buffer = bucket.Buffer.AsSpan();
            int offset = 0;
            foreach (var p in bucket.Parameters) { p.Value.CopyTo(buffer.Slice(offset, (int)p.Length)); offset += (int)p.Length; }
            _communicator.Broadcast(buffer, root);
            offset = 0;
            foreach (var p in bucket.Parameters) { p.Value.CopyFrom(buffer.Slice(offset, (int)p.Length)); offset += (int)p.Length; }
        }
    }
}
