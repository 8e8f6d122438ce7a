using NUnit.Framework;
using OptEq.Autodiff.Data;
using OptEq.Kernels.Native;

namespace OptEq.Tests.Data;

public class BatchIteratorTests
{
    private NativeCpuDevice _device = null!;

    [OneTimeSetUp] public void Open() => _device = new NativeCpuDevice();
    [OneTimeTearDown] public void Close() => _device.Dispose();

    /// <summary>23 samples of 2×3 pixels; every pixel of sample i encodes i, so a batch read back says which samples it holds.</summary>
    private static Dataset Numbered(int count = 23)
    {
        var images = new float[count * 6];
        for (int i = 0; i < images.Length; i++) images[i] = i / 6 + (i % 6) / 10f;
        return new Dataset("numbered", images, Enumerable.Range(0, count).Select(i => i % 4).ToArray(), 2, 3, 4);
    }

    /// <summary>Reads every batch of an epoch back from the device: the sample ids in order, and the batch sizes.</summary>
    private static (List<int> Samples, List<int> Sizes) ReadEpoch(BatchIterator it, Dataset data, int epoch)
    {
        var samples = new List<int>();
        var sizes = new List<int>();
        foreach (var batch in it.Epoch(epoch))
        {
            var images = batch.Images.ToArray();
            var labels = batch.Labels.ToArray();
            Assert.That(batch.Images.Shape, Is.EqualTo(new[] { batch.Count, 6 }));
            for (int k = 0; k < batch.Count; k++)
            {
                int sample = (int)images[k * 6];
                Assert.That(sample, Is.EqualTo(batch.Indices.Span[k]));
                Assert.That(images.AsSpan(k * 6, 6).ToArray(), Is.EqualTo(data.Image(sample).ToArray()));
                Assert.That(labels[k], Is.EqualTo(data.Labels[sample]));
                samples.Add(sample);
            }
            sizes.Add(batch.Count);
        }
        return (samples, sizes);
    }

    [Test]
    public void EveryEpochCoversEverySampleOnce()
    {
        var data = Numbered();
        using var it = new BatchIterator(_device, data, batchSize: 5, seed: 42);
        Assert.That(it.BatchesPerEpoch, Is.EqualTo(5));
        for (int epoch = 0; epoch < 3; epoch++)
        {
            var (samples, sizes) = ReadEpoch(it, data, epoch);
            Assert.That(samples, Is.EquivalentTo(Enumerable.Range(0, 23)));
            Assert.That(sizes, Is.EqualTo(new[] { 5, 5, 5, 5, 3 }), "the last partial batch is kept");
        }
    }

    [Test]
    public void DropLastDropsThePartialBatch()
    {
        var data = Numbered();
        using var it = new BatchIterator(_device, data, batchSize: 5, seed: 42, dropLast: true);
        Assert.That(it.BatchesPerEpoch, Is.EqualTo(4));
        var (samples, sizes) = ReadEpoch(it, data, epoch: 0);
        Assert.That(sizes, Is.EqualTo(new[] { 5, 5, 5, 5 }));
        Assert.That(samples, Is.Unique);
        Assert.That(samples, Is.EqualTo(it.OrderOf(0).Take(20)));
    }

    [Test]
    public void SameSeedSameOrderAndEpochsDiffer()
    {
        var data = Numbered(1000);
        using var a = new BatchIterator(_device, data, batchSize: 64, seed: 7);
        using var b = new BatchIterator(_device, data, batchSize: 64, seed: 7);
        using var other = new BatchIterator(_device, data, batchSize: 64, seed: 8);
        Assert.That(a.OrderOf(3), Is.EqualTo(b.OrderOf(3)));
        // The order depends on (seed, epoch) only, not on which epochs came before (a resumed run repeats it).
        var first = a.OrderOf(1);
        a.OrderOf(2);
        Assert.That(a.OrderOf(1), Is.EqualTo(first));
        Assert.That(a.OrderOf(0), Is.Not.EqualTo(a.OrderOf(1)));
        Assert.That(other.OrderOf(0), Is.Not.EqualTo(a.OrderOf(0)));
        Assert.That(a.OrderOf(0), Is.EquivalentTo(Enumerable.Range(0, 1000)));
        Assert.That(a.OrderOf(0), Is.Not.EqualTo(Enumerable.Range(0, 1000)), "shuffled");
    }

    /// <summary>
    /// The shuffle is pinned: these orders come from an independent Python implementation of the same algorithm
    /// (SplitMix64 seeded with seed·2³² + epoch, Lemire's bounded integers, Fisher–Yates from the end), so a checkpoint's
    /// seed reproduces its data order on any machine and any .NET version.
    /// </summary>
    [Test]
    public void ShuffleMatchesTheReferenceAlgorithm()
    {
        var data = Numbered(12);
        using var a = new BatchIterator(_device, data, batchSize: 4, seed: 7);
        using var b = new BatchIterator(_device, data, batchSize: 4, seed: -3);
        Assert.That(a.OrderOf(0), Is.EqualTo(new[] { 5, 9, 1, 11, 3, 10, 6, 2, 7, 0, 4, 8 }));
        Assert.That(a.OrderOf(1), Is.EqualTo(new[] { 8, 9, 4, 10, 6, 3, 2, 5, 11, 7, 0, 1 }));
        Assert.That(b.OrderOf(5), Is.EqualTo(new[] { 8, 1, 9, 5, 7, 6, 4, 11, 2, 3, 10, 0 }));
    }

    [Test]
    public void WithoutShuffleTheOrderIsTheDatasetOrder()
    {
        var data = Numbered();
        using var it = new BatchIterator(_device, data, batchSize: 8, seed: 1, shuffle: false);
        var (samples, _) = ReadEpoch(it, data, epoch: 5);
        Assert.That(samples, Is.EqualTo(Enumerable.Range(0, 23)));
    }

    [Test]
    public void BatchesAllocateNothing()
    {
        var data = Numbered(1000);
        using var it = new BatchIterator(_device, data, batchSize: 30, seed: 3);
        using var e = it.Epoch(0).GetEnumerator();
        Assert.That(e.MoveNext(), Is.True);
        long before = GC.GetAllocatedBytesForCurrentThread();
        int batches = 1;
        while (e.MoveNext()) batches++;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(batches, Is.EqualTo(34), "33 full batches and a partial one of 10");
        Assert.That(allocated, Is.Zero);
    }

    [Test]
    public void BadArgumentsAreRejected()
    {
        var data = Numbered();
        Assert.That(() => new BatchIterator(_device, data, batchSize: 0, seed: 1), Throws.TypeOf<ArgumentOutOfRangeException>());
        using var it = new BatchIterator(_device, data, batchSize: 4, seed: 1);
        Assert.That(() => it.Epoch(-1).ToList(), Throws.TypeOf<ArgumentOutOfRangeException>());
    }
}

public class BatchIteratorTransformTests
{
    /// <summary>Adds 100·epoch + index to every pixel: shows which epoch and sample the iterator passed.</summary>
    private sealed class Marking : OptEq.Autodiff.Data.ISampleTransform
    {
        public void Apply(int epoch, int index, ReadOnlySpan<float> image, Span<float> output)
        {
            for (int p = 0; p < image.Length; p++) output[p] = image[p] + 100 * epoch + index;
        }
    }

    [Test]
    public void ATransformRewritesEachImageAsItIsGatheredAndLeavesTheDatasetAlone()
    {
        using var device = new NativeCpuDevice();
        var images = Enumerable.Range(0, 7 * 4).Select(i => i * 0.5f).ToArray();
        var data = new Dataset("small", (float[])images.Clone(), [0, 1, 0, 1, 0, 1, 0], 2, 2, 2);
        using var it = new BatchIterator(device, data, batchSize: 3, seed: 5, transform: new Marking());
        using var plain = new BatchIterator(device, data, batchSize: 3, seed: 5);
        foreach (int epoch in new[] { 0, 2 })
        {
            var marked = it.Epoch(epoch).Select(b => (Images: b.Images.ToArray(), Labels: b.Labels.ToArray(), Host: b.HostLabels.ToArray(), Indices: b.Indices.ToArray())).ToList();
            var original = plain.Epoch(epoch).Select(b => b.Images.ToArray()).ToList();
            for (int b = 0; b < marked.Count; b++)
            {
                Assert.That(marked[b].Host, Is.EqualTo(marked[b].Labels), "host labels are the uploaded ones");
                for (int k = 0; k < marked[b].Indices.Length; k++)
                    for (int p = 0; p < 4; p++)
                        Assert.That(marked[b].Images[k * 4 + p], Is.EqualTo(original[b][k * 4 + p] + 100 * epoch + marked[b].Indices[k]));
            }
        }
        Assert.That(data.Images, Is.EqualTo(images));
    }

    [Test]
    public void ShiftAugmentationMovesTheImageAndFillsTheBackground()
    {
        var image = Enumerable.Range(1, 9).Select(i => (float)i).ToArray(); // 3×3: 1 2 3 / 4 5 6 / 7 8 9
        var output = new float[9];
        OptEq.Autodiff.Training.ShiftAugmentation.Shift(image, output, 3, dx: 1, dy: -1, background: -1);
        Assert.That(output, Is.EqualTo(new float[] { -1, 4, 5, -1, 7, 8, -1, -1, -1 }));
        var shift = new OptEq.Autodiff.Training.ShiftAugmentation(seed: 3, maxShift: 1, side: 3, background: -1);
        shift.Apply(epoch: 4, index: 2, image, output);
        // The iterator's epoch 4 is the trainer's epoch 5: the draws runs have always used.
        int dx = OptEq.Autodiff.Training.ShiftAugmentation.Draw(3, 5, 2, 0, 1), dy = OptEq.Autodiff.Training.ShiftAugmentation.Draw(3, 5, 2, 1, 1);
        var expected = new float[9];
        OptEq.Autodiff.Training.ShiftAugmentation.Shift(image, expected, 3, dx, dy, -1);
        Assert.That(output, Is.EqualTo(expected));
    }
}
