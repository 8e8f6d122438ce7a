using System.Numerics;
using System.Runtime.Intrinsics;

namespace OptEq.Kernels.Native;

public sealed unsafe partial class NativeCpuDevice
{
    protected override void AndersonUpdateCore<T>(AndersonShape shape, Storage<T> z, MatrixLayout lz, Storage<T> fz, MatrixLayout lf,
        Storage<T> iterates, long iteratesOffset, Storage<T> residuals, long residualsOffset, Storage<T> gram, long gramOffset,
        Storage<T> absSquared, long absOffset, Storage<T> normSquared, long normOffset) =>
        NativeParallel.For(shape.Batch, (long)shape.Dimension * (shape.Used + 3), new AndersonUpdateRows<T>
        {
            Shape = shape, Z = Rows(z, lz), Fz = Rows(fz, lf), Iterates = Ptr(iterates, iteratesOffset), Residuals = Ptr(residuals, residualsOffset),
            Gram = Ptr(gram, gramOffset), AbsSquared = Ptr(absSquared, absOffset), NormSquared = Ptr(normSquared, normOffset),
        });

    protected override void AndersonMixCore<T>(AndersonShape shape, Storage<T> alpha, MatrixLayout lalpha, Storage<int> status, long statusOffset,
        Storage<T> active, long activeOffset, Storage<T> iterates, long iteratesOffset, Storage<T> residuals, long residualsOffset,
        Storage<T> fz, MatrixLayout lf, T beta, Storage<T> z, MatrixLayout lz) =>
        NativeParallel.For(shape.Batch, (long)shape.Dimension * 2 * shape.Used, new AndersonMixRows<T>
        {
            Shape = shape, Alpha = Rows(alpha, lalpha), Status = Ptr(status, statusOffset), Active = Ptr(active, activeOffset),
            Iterates = Ptr(iterates, iteratesOffset), Residuals = Ptr(residuals, residualsOffset), Fz = Rows(fz, lf), Beta = beta, Z = Rows(z, lz),
        });

    /// <summary>Samples [b0, b1): one pass writes the slot and the two norms, a second takes the new residual's dot products (it is in L1 by then).</summary>
    private struct AndersonUpdateRows<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public AndersonShape Shape;
        public RowPointer<T> Z, Fz;
        public T* Iterates, Residuals, Gram, AbsSquared, NormSquared;

        public readonly void Run(int b0, int b1)
        {
            int m = Shape.Memory, d = Shape.Dimension, slot = Shape.Slot, w = Vector512<T>.Count;
            for (int b = b0; b < b1; b++)
            {
                T* zr = Z[b], fr = Fz[b];
                T* x = Iterates + ((long)b * m + slot) * d, r = Residuals + ((long)b * m + slot) * d;
                var abs = Vector512<T>.Zero; var norm = Vector512<T>.Zero;
                int j = 0;
                for (; j <= d - w; j += w)
                {
                    var vz = Vector512.Load(zr + j); var vf = Vector512.Load(fr + j);
                    var vr = vf - vz;
                    Vector512.Store(vz, x + j);
                    Vector512.Store(vr, r + j);
                    abs += vr * vr;
                    norm += vf * vf;
                }
                T absTail = T.Zero, normTail = T.Zero;
                for (; j < d; j++)
                {
                    T rj = fr[j] - zr[j];
                    x[j] = zr[j];
                    r[j] = rj;
                    absTail += rj * rj;
                    normTail += fr[j] * fr[j];
                }
                T absSquared = Vector512.Sum(abs) + absTail;
                AbsSquared[b] = absSquared;
                NormSquared[b] = Vector512.Sum(norm) + normTail;
                T* g = Gram + (long)b * m * m;
                g[slot * m + slot] = absSquared;
                for (int i = 0; i < Shape.Used; i++)
                {
                    if (i == slot) continue;
                    T dot = Dot(r, Residuals + ((long)b * m + i) * d, d);
                    g[slot * m + i] = dot;
                    g[i * m + slot] = dot;
                }
            }
        }

        private static T Dot(T* x, T* y, int n)
        {
            var acc = Vector512<T>.Zero;
            int j = 0;
            for (; j <= n - Vector512<T>.Count; j += Vector512<T>.Count) acc += Vector512.Load(x + j) * Vector512.Load(y + j);
            T tail = T.Zero;
            for (; j < n; j++) tail += x[j] * y[j];
            return Vector512.Sum(acc) + tail;
        }
    }

    private struct AndersonMixRows<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public AndersonShape Shape;
        public RowPointer<T> Alpha, Fz, Z;
        public int* Status;
        public T* Active, Iterates, Residuals;
        public T Beta;

        public readonly void Run(int b0, int b1)
        {
            int m = Shape.Memory, d = Shape.Dimension, w = Vector512<T>.Count;
            for (int b = b0; b < b1; b++)
            {
                if (Active[b] == T.Zero) continue; // stopped: keeps its state
                T* zr = Z[b];
                if (Status[b] != 0)
                {
                    new ReadOnlySpan<T>(Fz[b], d).CopyTo(new Span<T>(zr, d)); // the small solve failed: a plain step
                    continue;
                }
                T* a = Alpha[b];
                // z ← Σ αᵢ·xᵢ + (β·αᵢ)·rᵢ, slot by slot over the whole row (slot 0 writes, later slots add).
                for (int i = 0; i < Shape.Used; i++)
                {
                    T ai = a[i], bi = Beta * a[i];
                    T* x = Iterates + ((long)b * m + i) * d, r = Residuals + ((long)b * m + i) * d;
                    var va = Vector512.Create(ai); var vb = Vector512.Create(bi);
                    int j = 0;
                    if (i == 0)
                    {
                        for (; j <= d - w; j += w) Vector512.Store(va * Vector512.Load(x + j) + vb * Vector512.Load(r + j), zr + j);
                        for (; j < d; j++) zr[j] = ai * x[j] + bi * r[j];
                    }
                    else
                    {
                        for (; j <= d - w; j += w) Vector512.Store(Vector512.Load(zr + j) + va * Vector512.Load(x + j) + vb * Vector512.Load(r + j), zr + j);
                        for (; j < d; j++) zr[j] += ai * x[j] + bi * r[j];
                    }
                }
            }
        }
    }
}
