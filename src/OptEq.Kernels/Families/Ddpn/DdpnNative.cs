using System.Numerics;

namespace OptEq.Kernels.Native;

/// <summary>The DDPNOpt family on the CPU: one row per sample, rows split across the worker team. The rows are short
/// (a layer's width), so a scalar loop per row is enough; the GEMMs around these kernels carry the cost.</summary>
internal sealed unsafe class DdpnNative : IDdpnBackend
{
    public void RankOneCorrection<T>(int rows, int cols, MatrixView<T> a, MatrixView<T> h, MatrixView<T> r, MatrixView<T> d, T epsilon, T bound, MatrixView<T> result)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        NativeParallel.For(rows, cols * 4L, new CorrectionRows<T>
        {
            A = a.IsAbsent ? default : a.Rows(), H = h.Rows(), R = r.Rows(), D = d.IsAbsent ? default : d.Rows(), Result = result.Rows(), Epsilon = epsilon,
            Bound = bound, Cols = cols,
        });

    public void ValueFactor<T>(int rows, int cols, MatrixView<T> h, MatrixView<T> p, MatrixView<T> result) where T : unmanaged, IFloatingPointIeee754<T> =>
        NativeParallel.For(rows, cols * 2L, new FactorRows<T> { H = h.Rows(), P = p.Rows(), Result = result.Ptr(), Cols = cols });

    public void KroneckerValueFactor<T>(int rows, int hcols, MatrixView<T> h, MatrixView<T> hg, int xcols, MatrixView<T> x, MatrixView<T> xa, T scale, MatrixView<T> result)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        NativeParallel.For(rows, (hcols + xcols) * 2L, new KroneckerFactorRows<T>
        {
            H = h.Rows(), HG = hg.Rows(), X = x.Rows(), XA = xa.Rows(), Result = result.Ptr(), HCols = hcols, XCols = xcols, Scale = scale,
        });

    private struct KroneckerFactorRows<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public RowPointer<T> H, HG, X, XA;
        public T* Result;
        public int HCols, XCols;
        public T Scale;

        public readonly void Run(int r0, int r1)
        {
            for (int i = r0; i < r1; i++)
            {
                T* h = H[i], hg = HG[i], x = X[i], xa = XA[i];
                T sh = T.Zero, sx = T.Zero;
                for (int j = 0; j < HCols; j++) sh += h[j] * hg[j];
                for (int j = 0; j < XCols; j++) sx += x[j] * xa[j];
                Result[i] = T.Sqrt(T.Max(T.Zero, T.One - Scale * sh * sx));
            }
        }
    }

    private struct CorrectionRows<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public RowPointer<T> A, H, R, D, Result;
        public T Epsilon, Bound;
        public int Cols;

        public readonly void Run(int r0, int r1)
        {
            for (int i = r0; i < r1; i++)
            {
                T* h = H[i], r = R[i], y = Result[i];
                T* a = A.IsNull ? null : A[i];
                T* d = D.IsNull ? null : D[i];
                T s = T.Zero;
                for (int j = 0; j < Cols; j++) s += h[j] * r[j];
                if (a is not null && Bound > T.Zero)
                {
                    // ‖a‖ and ‖c‖ first, then a + scale·c with scale = min(1, ρ‖a‖/‖c‖).
                    T an = T.Zero, cn = T.Zero;
                    for (int j = 0; j < Cols; j++)
                    {
                        T dj = d is null ? T.One : d[j], c = h[j] * s + Epsilon * dj * dj * r[j];
                        an += a[j] * a[j]; cn += c * c;
                    }
                    T limit = Bound * T.Sqrt(an), norm = T.Sqrt(cn), scale = limit < norm ? limit / norm : T.One;
                    for (int j = 0; j < Cols; j++)
                    {
                        T dj = d is null ? T.One : d[j];
                        y[j] = a[j] + scale * (h[j] * s + Epsilon * dj * dj * r[j]);
                    }
                    continue;
                }
                for (int j = 0; j < Cols; j++)
                {
                    T dj = d is null ? T.One : d[j];
                    y[j] = (a is null ? T.Zero : a[j]) + h[j] * s + Epsilon * dj * dj * r[j];
                }
            }
        }
    }

    private struct FactorRows<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public RowPointer<T> H, P;
        public T* Result;
        public int Cols;

        public readonly void Run(int r0, int r1)
        {
            for (int i = r0; i < r1; i++)
            {
                T* h = H[i], p = P[i];
                T s = T.Zero;
                for (int j = 0; j < Cols; j++) s += h[j] * h[j] * p[j];
                Result[i] = T.Sqrt(T.Max(T.Zero, T.One - s));
            }
        }
    }
}
