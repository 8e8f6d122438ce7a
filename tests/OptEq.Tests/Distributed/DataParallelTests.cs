using NUnit.Framework;
using OptEq.Autodiff;
using OptEq.Autodiff.Data;
using OptEq.Autodiff.Distributed;
using OptEq.Autodiff.Models;
using OptEq.Autodiff.Training;
using OptEq.Kernels.Native;
using OptEq.Tests.Training;

namespace OptEq.Tests.Distributed;

/// <summary>The parts of data-parallel training that need no MPI: shards, the gradient weighting, launcher detection.</summary>
public class DataParallelTests
{
    [Test]
    public void ShardsOfABatchPartitionItInOrderWithSizesWithinOne([Values(1, 2, 3, 5)] int ranks)
    {
        foreach (int count in (int[])[0, 1, 2, 7, 16, 17, 128])
        {
            int next = 0;
            var sizes = new List<int>();
            for (int rank = 0; rank < ranks; rank++)
            {
                var (start, n) = new BatchShard(rank, ranks).Of(count);
                Assert.That(start, Is.EqualTo(next), $"rank {rank} of {ranks}, batch {count}: contiguous");
                next += n;
                sizes.Add(n);
            }
            Assert.That(next, Is.EqualTo(count), $"{ranks} ranks cover a batch of {count}");
            Assert.That(sizes.Max() - sizes.Min(), Is.LessThanOrEqualTo(1));
        }
    }

    [Test]
    public void ShardedIteratorsTogetherSeeExactlyTheGlobalBatches()
    {
        using var device = new NativeCpuDevice();
        // 23 samples, batch 8: two full batches and a last one of 7, split 3/2/2 over three ranks (and 8 = 3/3/2).
        var data = TrainerTests.Synthetic("train", 23, 1);
        using var whole = new BatchIterator(device, data, 8, seed: 5);
        var iterators = Enumerable.Range(0, 3).Select(r => new BatchIterator(device, data, 8, seed: 5, shard: new BatchShard(r, 3))).ToArray();
        try
        {
            Assert.That(iterators.Select(i => i.ShardSize), Is.EqualTo(new[] { 3, 3, 2 }));
            Assert.That(iterators.Select(i => i.BatchesPerEpoch), Is.All.EqualTo(whole.BatchesPerEpoch));
            for (int epoch = 0; epoch < 2; epoch++)
            {
                var expected = whole.Epoch(epoch).Select(b => (b.Indices.ToArray(), b.Images.ToArray())).ToList();
                var parts = iterators.Select(it => it.Epoch(epoch).Select(b => (b.Indices.ToArray(), b.Images.ToArray(), b.Labels.ToArray())).ToList()).ToArray();
                for (int b = 0; b < expected.Count; b++)
                {
                    Assert.That(parts.SelectMany(p => p[b].Item1), Is.EqualTo(expected[b].Item1), $"epoch {epoch} batch {b}: the shards in rank order are the global batch");
                    Assert.That(parts.SelectMany(p => p[b].Item2), Is.EqualTo(expected[b].Item2), $"epoch {epoch} batch {b}: the same pixels");
                    Assert.That(iterators[0].GlobalCount(b), Is.EqualTo(expected[b].Item1.Length));
                }
            }
        }
        finally
        {
            foreach (var it in iterators) it.Dispose();
        }
    }

    [Test]
    public void ABatchSmallerThanTheRanksIsAClearError()
    {
        using var device = new NativeCpuDevice();
        var data = TrainerTests.Synthetic("train", 10, 1);
        var e = Assert.Throws<ArgumentException>(() => new BatchIterator(device, data, 1, seed: 0, shard: new BatchShard(1, 2)));
        Assert.That(e!.Message, Does.Contain("batch of 1").And.Contain("2 ranks"));
    }

    [Test]
    public void GradientsAreWeightedByShardSizeBucketedAndWrittenBack()
    {
        using var device = new NativeCpuDevice();
        using var a = new Parameter<float>("a", device.Allocate<float>(3));
        using var b = new Parameter<float>("b", device.Allocate<float>(2, 2));
        using var c = new Parameter<float>("c", device.Allocate<float>(5));
        a.Grad.CopyFrom([1, 2, 3]);
        b.Grad.CopyFrom([4, 5, 6, 7]);
        c.Grad.CopyFrom([8, 9, 10, 11, 12]);
        var peer = new OtherRankAddsOnes();
        // Buckets of at most 7 floats: [a, b] and [c].
        var buckets = new GradientBuckets(peer, [a, b, c], bucketFloats: 7);
        Assert.That(buckets.BucketCount, Is.EqualTo(2));
        Assert.That(buckets.Floats, Is.EqualTo(12));
        buckets.Average(localCount: 3, globalCount: 4);
        // This rank's mean gradient times 3/4, plus the other rank's contribution (ones here).
        Assert.That(a.Grad.ToArray(), Is.EqualTo(new[] { 1.75f, 2.5f, 3.25f }));
        Assert.That(b.Grad.ToArray(), Is.EqualTo(new[] { 4f, 4.75f, 5.5f, 6.25f }));
        Assert.That(c.Grad.ToArray(), Is.EqualTo(new[] { 7f, 7.75f, 8.5f, 9.25f, 10f }));
        Assert.That(peer.Calls, Is.EqualTo(new[] { 7, 5 }), "one allreduce per bucket, in parameter order");
        Assert.That(buckets.Steps, Is.EqualTo(1));
    }

    [Test]
    public void AnEmptyShardContributesZeros()
    {
        using var device = new NativeCpuDevice();
        using var a = new Parameter<float>("a", device.Allocate<float>(2));
        a.Grad.CopyFrom([float.NaN, 5]); // stale: an empty shard never ran backward
        new GradientBuckets(new OtherRankAddsOnes(), [a]).Average(localCount: 0, globalCount: 1);
        Assert.That(a.Grad.ToArray(), Is.EqualTo(new[] { 1f, 1f }));
    }

    [Test]
    public void LauncherIsDetectedFromItsVariablesAndOptEqMpiOverrides()
    {
        static Func<string, string?> Env(params (string Name, string Value)[] vars) => name => vars.FirstOrDefault(v => v.Name == name).Value;
        Assert.That(LaunchEnvironment.UnderMpiLauncher(Env()), Is.False);
        Assert.That(LaunchEnvironment.UnderMpiLauncher(Env(("OMPI_COMM_WORLD_SIZE", "2"))), Is.True, "Open MPI");
        Assert.That(LaunchEnvironment.UnderMpiLauncher(Env(("PMI_SIZE", "4"))), Is.True, "MPICH Hydra");
        Assert.That(LaunchEnvironment.UnderMpiLauncher(Env(("OMPI_COMM_WORLD_SIZE", "2"), ("OPTEQ_MPI", "0"))), Is.False);
        Assert.That(LaunchEnvironment.UnderMpiLauncher(Env(("OPTEQ_MPI", "1"))), Is.True);
        Assert.That(() => LaunchEnvironment.UnderMpiLauncher(Env(("OPTEQ_MPI", "yes"))), Throws.ArgumentException.With.Message.Contains("OPTEQ_MPI=yes"));
        Assert.That(LaunchEnvironment.LocalRank(Env(("OMPI_COMM_WORLD_LOCAL_RANK", "3"))), Is.EqualTo(3));
        Assert.That(LaunchEnvironment.LocalRank(Env(("MPI_LOCALRANKID", "1"))), Is.EqualTo(1));
        Assert.That(LaunchEnvironment.LocalRank(Env()), Is.Zero);
    }

    [Test]
    public void DeviceIdsTakeTheLocalRank()
    {
        var rank = new OtherRankAddsOnes();
        Assert.That(LaunchEnvironment.DeviceFor("cuda:{local_rank}", rank), Is.EqualTo("cuda:1"));
        Assert.That(LaunchEnvironment.DeviceFor("cpu", rank), Is.EqualTo("cpu"));
        Assert.That(LaunchEnvironment.DeviceFor(null, rank), Is.Null);
    }

    [Test]
    public void WithoutALauncherNoMpiIsLoaded()
    {
        if (LaunchEnvironment.UnderMpiLauncher()) Assert.Ignore("the tests themselves run under an MPI launcher");
        Assert.That(LaunchEnvironment.Open(), Is.SameAs(SingleProcess.Instance));
    }

    [Test, NonParallelizable]
    public void ADataParallelStepAllocatesNothingAfterWarmUp()
    {
        using var device = new NativeCpuDevice();
        var options = new TrainingOptions { Epochs = 2, Batch = 32 };
        var train = TrainerTests.Synthetic("train", 6 * options.Batch, 1);
        var test = TrainerTests.Synthetic("test", 60, 2);
        using var model = new Classifier<float>(device, new ModelConfig { Input = train.Pixels, Classes = train.Classes });
        using var trainer = new Trainer(device, model, options, train, test, new OtherRankAddsOnes());
        using var batches = trainer.Batches(epoch: 1).GetEnumerator();
        void Step()
        {
            if (!batches.MoveNext()) throw new InvalidOperationException("the epoch ended early");
            trainer.Step(batches.Current, epoch: 1);
        }
        Step(); Step(); Step();
        long before = GC.GetAllocatedBytesForCurrentThread(), workers = WorkerTeam.WorkerAllocatedBytes;
        Step(); Step();
        long bytes = GC.GetAllocatedBytesForCurrentThread() - before + (WorkerTeam.WorkerAllocatedBytes - workers);
        Assert.That(bytes, Is.Zero, "managed bytes of two data-parallel steps (packing, allreduce, unpacking)");
        Assert.That(batches.Current.Count, Is.EqualTo(16), "rank 1 of 2 holds half of each batch of 32");
    }

    /// <summary>Rank 1 of 2, whose peer contributes ones to every sum; records the length of each allreduce.</summary>
    private sealed class OtherRankAddsOnes : ITrainingCommunicator
    {
        public List<int> Calls { get; } = new(16);
        public int Rank => 1;
        public int Ranks => 2;
        public int LocalRank => 1;
        public string Description => "test";
        public void AllReduceSum(Span<float> values)
        {
            if (Calls.Count < Calls.Capacity) Calls.Add(values.Length);
            for (int i = 0; i < values.Length; i++) values[i] += 1;
        }
        public void AllReduceSum(Span<double> values) { for (int i = 0; i < values.Length; i++) values[i] *= 2; }
        public void AllReduceMax(Span<double> values) { }
        public void Broadcast(Span<float> values, int root = 0) { }
        public void Barrier() { }
        public void Abort(int exitCode) => throw new InvalidOperationException($"abort {exitCode}");
        public void Dispose() { }
    }
}
