using NUnit.Framework;
using OptEq.Kernels;
using OptEq.Kernels.Native;

namespace OptEq.Tests;

public class TensorTests
{
    [Test]
    public void SlicesAndReshapesShareStorage()
    {
        using var device = new NativeCpuDevice();
        using var t = device.FromArray<float>(Enumerable.Range(0, 12).Select(i => (float)i).ToArray(), 3, 4);
        var rows = t.Slice(1, 2);
        Assert.That(rows.ToArray(), Is.EqualTo(new float[] { 4, 5, 6, 7, 8, 9, 10, 11 }));
        var cols = t.SliceColumns(1, 2);
        Assert.That(cols.IsContiguous, Is.False);
        Assert.That(cols.ToArray(), Is.EqualTo(new float[] { 1, 2, 5, 6, 9, 10 }));
        cols.CopyFrom(new float[] { -1, -2, -5, -6, -9, -10 });
        Assert.That(t.ToArray()[1], Is.EqualTo(-1f));
        Assert.That(t.Reshape(2, -1).Shape, Is.EqualTo(new[] { 2, 6 }));
        Assert.That(t[2].ToArray(), Is.EqualTo(new float[] { 8, -9, -10, 11 }));
    }

    [Test]
    public void BadShapesAreClearErrors()
    {
        using var device = new NativeCpuDevice();
        using var t = device.Allocate<float>(3, 4);
        Assert.That(() => t.Slice(2, 2), Throws.TypeOf<ShapeException>().With.Message.Contains("outside dimension 0"));
        Assert.That(() => t.Reshape(5, -1), Throws.TypeOf<ShapeException>().With.Message.Contains("cannot reshape 12"));
        Assert.That(() => t.SliceColumns(1, 2).Reshape(6), Throws.TypeOf<ShapeException>().With.Message.Contains("contiguous"));
        Assert.That(() => t.CopyFrom(new float[5]), Throws.TypeOf<ShapeException>().With.Message.Contains("5 elements"));
        Assert.That(() => device.Allocate<float>(2, -1), Throws.TypeOf<ShapeException>());
    }

    [Test]
    public void PoolReusesStorage()
    {
        using var device = new NativeCpuDevice();
        var a = device.Pool.Rent<float>(8, 16);
        var storage = a.Storage;
        device.Pool.Return(a);
        var b = device.Pool.Rent<float>(16, 8);
        Assert.That(b.Storage, Is.SameAs(storage));
        Assert.That(() => device.Pool.Return(b.Slice(0, 2)), Throws.ArgumentException);
    }

    [Test]
    public void RentingOneLengthAsAlternatingShapesAllocatesNothingAfterTheFirstOfEach()
    {
        // A training step rents [batch, d] buffers and flat workspaces of the same length in turn (convolutions do).
        using var device = new NativeCpuDevice();
        var pool = device.Pool;
        int[] flatShape = [];
        void Cycle()
        {
            var matrix = pool.Rent<float>(8, 16);
            pool.Return(matrix);
            var flat = pool.Rent<float>(128);
            flatShape = flat.Shape;
            pool.Return(flat);
        }
        Cycle();
        Assert.That(flatShape, Is.EqualTo(new[] { 128 }));
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) Cycle();
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
        var again = pool.Rent<float>(16, 8);
        Assert.That(again.Shape, Is.EqualTo(new[] { 16, 8 }), "a third shape gets its own view of the same storage");
    }

    [Test]
    public void UnknownDeviceListsTheAvailableOnes()
    {
        var e = Assert.Throws<DeviceNotFoundException>(() => DeviceCatalog.Open("cuda:7"))!;
        Assert.That(e.Message, Does.Contain("cpu"));
        Assert.That(e.AvailableIds, Does.Contain("cpu"));
    }
}
