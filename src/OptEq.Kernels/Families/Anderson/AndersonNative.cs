using System.Numerics;

namespace OptEq.Kernels.Native;

/// <summary>The Anderson family on the CPU: samples split across the worker team, each row on the VectorDriver.</summary>
internal sealed unsafe class AndersonNative : IAndersonBackend
{
    public void Update<T>(AndersonShape shape, MatrixView<T> z, MatrixView<T> fz, AndersonRing<T> ring, MatrixView<T> gram, MatrixView<T> absSquared, MatrixView<T> normSquared)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        NativeParallel.For(shape.Batch, (long)shape.Dimension * (shape.Used + 3), new AndersonUpdateRows<T>
        {
            Shape = shape, Z = z.Rows(), Fz = fz.Rows(), Iterates = ring.Iterates.Ptr(), Residuals = ring.Residuals.Ptr(),
            Gram = gram.Ptr(), AbsSquared = absSquared.Ptr(), NormSquared = normSquared.Ptr(),
        });

    public void Mix<T>(AndersonShape shape, MatrixView<T> alpha, MatrixView<int> status, MatrixView<T> active, AndersonRing<T> ring, MatrixView<T> fz, T beta, MatrixView<T> z)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        NativeParallel.For(shape.Batch, (long)shape.Dimension * 2 * shape.Used, new AndersonMixRows<T>
        {
            Shape = shape, Alpha = alpha.Rows(), Status = status.Ptr(), Active = active.Ptr(),
            Iterates = ring.Iterates.Ptr(), Residuals = ring.Residuals.Ptr(), Fz = fz.Rows(), Beta = beta, Z = z.Rows(),
        });

    public void BorderedSystem<T>(AndersonShape shape, T ridge, MatrixView<T> gram, MatrixView<T> system, MatrixView<T> rhs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = shape.Memory;
        // Work per system counted as 16 per entry: each entry is a call into the shared scalar code, not one flop.
        NativeParallel.For(shape.Batch, (long)(m + 1) * (m + 1) * 16, new AndersonSystems<T>
        {
            M = m, Used = shape.Used, Ridge = ridge, Gram = gram.Ptr(), System = system.Ptr(), Rhs = rhs.Ptr(),
        });
    }

    /// <summary>Samples [b0, b1): the slot and the two norms, then the new residual's dot products (it is in L1 by then).</summary>
    private struct AndersonUpdateRows<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public AndersonShape Shape;
        public RowPointer<T> Z, Fz;
        public T* Iterates, Residuals, Gram, AbsSquared, NormSquared;

        public readonly void Run(int b0, int b1)
        {
            int m = Shape.Memory, d = Shape.Dimension, slot = Shape.Slot;
            for (int b = b0; b < b1; b++)
            {
                T* zr = Z[b], fr = Fz[b];
                T* x = Iterates + ((long)b * m + slot) * d, r = Residuals + ((long)b * m + slot) * d;
                new ReadOnlySpan<T>(zr, d).CopyTo(new Span<T>(x, d));
                VectorDriver.Map(new SubtractOp<T>(), fr, zr, r, d);
                T absSquared = VectorDriver.Reduce(new SquaredNormOp<T>(), r, r, d);
                AbsSquared[b] = absSquared;
                NormSquared[b] = VectorDriver.Reduce(new SquaredNormOp<T>(), fr, fr, d);
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

        private static T Dot(T* x, T* y, int n) => VectorDriver.Reduce(new DotOp<T>(), x, y, n);
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
            int m = Shape.Memory, d = Shape.Dimension;
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
                    if (i == 0) VectorDriver.Map(new AxpbyOp<T>(ai, bi), x, r, zr, d);
                    else VectorDriver.Map(new AddAxpbyOp<T>(ai, bi), zr, x, r, zr, d);
                }
            }
        }
    }

    private struct AndersonSystems<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public int M, Used;
        public T Ridge;
        public T* Gram, System, Rhs;

        public readonly void Run(int s0, int s1)
        {
            int m = M, n = m + 1;
            for (int s = s0; s < s1; s++)
            {
                T* g = Gram + (long)s * m * m, a = System + (long)s * n * n, b = Rhs + (long)s * n;
                T trace = T.Zero;
                for (int i = 0; i < Used; i++) trace += g[i * m + i];
                T meanDiagonal = trace / T.CreateTruncating(Used);
                for (int r = 0; r < n; r++)
                {
                    for (int c = 0; c < n; c++)
                        a[r * n + c] = AndersonBordered.Entry(r, c, m, Used, Ridge, meanDiagonal, r > 0 && c > 0 ? g[(r - 1) * m + (c - 1)] : T.Zero);
                    b[r] = r == 0 ? T.One : T.Zero;
                }
            }
        }
    }
}
