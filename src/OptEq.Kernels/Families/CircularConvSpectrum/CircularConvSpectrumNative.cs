using System.Numerics;
using System.Runtime.Intrinsics;

namespace OptEq.Kernels.Native;

/// <summary>
/// The Fourier-domain WᵀW on the CPU. The DFTs are small dense products with cos/sin tables (images are small, e.g.
/// 14 × 14, and of any size, odd or 1, so no radix FFT): along a row, one packed GEMM per sample [C·H, W] × [W, 2·Wf];
/// along a column, vectorised multiply-adds over the Wf = W/2 + 1 kept frequencies. The per-frequency products are one
/// GEMM per frequency, [batch, 2C] × [2C, 2C] on the real embedding of K̂, over spectra laid out frequency-major
/// ([f][sample][Re x̂ | Im x̂]). The inverse runs the same steps backwards, its last GEMM applying β into the result.
/// Tables, spectra and per-core scratch are one workspace rented from the device pool: a call allocates nothing once
/// the pool holds it.
/// </summary>
internal sealed unsafe class CircularConvSpectrumNative(Device device) : ICircularConvSpectrumBackend
{
    public void Spectrum<T>(in Conv2dGeometry g, MatrixView<T> weight, MatrixView<T> spectrum) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int frequencies = CircularConvSpectrumExtensions.Frequencies(g);
        int parts = Math.Max(1, Math.Min(frequencies, NativeParallel.Workers));
        int perPart = 2 * g.OutChannels * g.InChannels + 2 * (g.KernelHeight + g.KernelWidth);
        var scratch = device.Pool.Rent<double>(parts * perPart);
        long work = (long)g.OutChannels * g.InChannels * (g.KernelHeight * g.KernelWidth + g.InChannels) * frequencies / parts;
        NativeParallel.For(parts, work, new SpectrumParts<T>
        {
            G = g, Frequencies = frequencies, Parts = parts, PerPart = perPart, Scratch = (double*)MatrixView<double>.Vector(scratch).Ptr(),
            Weight = weight.Ptr(), LdWeight = weight.RowStride, Spectrum = spectrum.Ptr(),
        });
        device.Pool.Return(scratch);
    }

    public void Apply<T>(in Conv2dGeometry g, int batch, MatrixView<T> spectrum, MatrixView<T> v, MatrixView<T> result, T beta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var plan = new Plan(g, batch);
        if (plan.Workspace > int.MaxValue) throw new ShapeException($"circular-gram-apply: the workspace for {batch} samples of {g} is too large; apply in smaller batches");
        var workspace = device.Pool.Rent<T>((int)plan.Workspace);
        T* w = MatrixView<T>.Vector(workspace).Ptr();
        FillTables(g, plan, w);
        var body = new ApplyParts<T>
        {
            G = g, P = plan, Batch = batch, Work = w, Spectrum = spectrum.Ptr(),
            V = new RowPointer<T>(v.Ptr(), v.RowStride), Result = new RowPointer<T>(result.Ptr(), result.RowStride), Beta = beta,
        };
        long dftWork = (long)g.InputSize * (2 * plan.Wf) * (g.Width + 2 * g.Height);
        body.Stage = 0;
        NativeParallel.For(plan.SampleParts, dftWork * batch / plan.SampleParts, body);
        body.Stage = 1;
        NativeParallel.For(plan.FrequencyParts, (long)batch * 4 * g.InChannels * g.InChannels * plan.Frequencies / plan.FrequencyParts, body);
        body.Stage = 2;
        NativeParallel.For(plan.SampleParts, dftWork * batch / plan.SampleParts, body);
        device.Pool.Return(workspace);
    }

    public void NormFromEigenvalues<T>(int frequencies, int n, MatrixView<T> values, MatrixView<T> norm) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* lambda = values.Ptr();
        T largest = T.Zero; // K̂ is semidefinite: a rounding-negative λ is 0
        for (int f = 0; f < frequencies; f++)
            if (lambda[(long)f * n + n - 1] > largest) largest = lambda[(long)f * n + n - 1];
        norm.Ptr()[0] = T.Sqrt(largest);
    }

    /// <summary>Where each piece of the apply workspace lies (offsets in elements) and how the work is split.</summary>
    private readonly struct Plan
    {
        public readonly int Wf, Frequencies, Lane, SampleParts, FrequencyParts;
        public readonly long ForwardTable, CosH, SinH, InverseTable, Spectra, Products, Scratch, ScratchPerPart, Workspace;

        public Plan(in Conv2dGeometry g, int batch)
        {
            int h = g.Height, w = g.Width, c = g.InChannels;
            Wf = w / 2 + 1;
            Frequencies = h * Wf;
            Lane = 2 * c;
            SampleParts = Math.Max(1, Math.Min(batch, NativeParallel.Workers));
            FrequencyParts = Math.Max(1, Math.Min(Frequencies, NativeParallel.Workers));
            ForwardTable = 0;                                  // [W, 2Wf]: cos | −sin of 2π·v·x/W
            CosH = ForwardTable + (long)w * 2 * Wf;            // [H, H]: cos 2π·u·y/H
            SinH = CosH + (long)h * h;                          // [H, H]: sin 2π·u·y/H
            InverseTable = SinH + (long)h * h;                  // [2Wf, W]: wᵥ·cos, −wᵥ·sin of 2π·v·x/W, over H·W
            Spectra = InverseTable + 2L * Wf * w;               // [F, batch, 2C]: x̂ per frequency
            Products = Spectra + (long)Frequencies * batch * Lane; // [F, batch, 2C]: K̂·x̂
            Scratch = Products + (long)Frequencies * batch * Lane;
            ScratchPerPart = (long)c * h * 2 * Wf + (long)h * 2 * Wf + 2 * Wf; // row transforms, one channel's spectrum, one accumulator row
            Workspace = Scratch + ScratchPerPart * SampleParts;
        }
    }

    private static void FillTables<T>(in Conv2dGeometry g, in Plan p, T* work) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int h = g.Height, w = g.Width, wf = p.Wf;
        double scale = 1.0 / ((double)h * w);
        for (int x = 0; x < w; x++)
            for (int v = 0; v < wf; v++)
            {
                // (v·x) mod W keeps the angle in [0, 2π): exact integer reduction instead of a large float argument.
                double angle = 2 * Math.PI * (v * x % w) / w;
                // A real signal's spectrum at v and W − v are conjugate: the inverse counts the frequencies it dropped
                // by doubling every kept column except v = 0 and, for even W, v = W/2, which are their own mirror.
                double weight = v == 0 || 2 * v == w ? 1 : 2;
                work[p.ForwardTable + x * 2 * wf + v] = T.CreateTruncating(Math.Cos(angle));
                work[p.ForwardTable + x * 2 * wf + wf + v] = T.CreateTruncating(-Math.Sin(angle));
                work[p.InverseTable + v * w + x] = T.CreateTruncating(weight * scale * Math.Cos(angle));
                work[p.InverseTable + (wf + v) * w + x] = T.CreateTruncating(-weight * scale * Math.Sin(angle));
            }
        for (int u = 0; u < h; u++)
            for (int y = 0; y < h; y++)
            {
                double angle = 2 * Math.PI * (u * y % h) / h;
                work[p.CosH + u * h + y] = T.CreateTruncating(Math.Cos(angle));
                work[p.SinH + u * h + y] = T.CreateTruncating(Math.Sin(angle));
            }
    }

    /// <summary>acc[0..n) += a·x + b·y, at the current vector width.</summary>
    private static void MulAdd2<T>(T* acc, T a, T* x, T b, T* y, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        var width = SimdWidth.Current;
        if (width >= VectorWidth.Bits256)
        {
            var va = Vector256.Create(a);
            var vb = Vector256.Create(b);
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                Vector256.Store(Vector256.Load(acc + i) + va * Vector256.Load(x + i) + vb * Vector256.Load(y + i), acc + i);
        }
        if (width >= VectorWidth.Bits128)
        {
            var va = Vector128.Create(a);
            var vb = Vector128.Create(b);
            for (; i <= n - Vector128<T>.Count; i += Vector128<T>.Count)
                Vector128.Store(Vector128.Load(acc + i) + va * Vector128.Load(x + i) + vb * Vector128.Load(y + i), acc + i);
        }
        for (; i < n; i++) acc[i] += a * x[i] + b * y[i];
    }

    private struct SpectrumParts<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Conv2dGeometry G;
        public int Frequencies, Parts, PerPart;
        public double* Scratch;
        public T* Weight, Spectrum;
        public long LdWeight;

        public readonly void Run(int q0, int q1)
        {
            int co = G.OutChannels, c = G.InChannels, kh = G.KernelHeight, kw = G.KernelWidth, n = 2 * c, wf = G.Width / 2 + 1;
            for (int q = q0; q < q1; q++)
            {
                double* wr = Scratch + (long)q * PerPart, wi = wr + co * c, rowPhase = wi + co * c, colPhase = rowPhase + 2 * kh;
                int f0 = (int)((long)Frequencies * q / Parts), f1 = (int)((long)Frequencies * (q + 1) / Parts);
                for (int f = f0; f < f1; f++)
                {
                    int u = f / wf, v = f % wf;
                    // Tap i reads row r − p + i: phase e^{+2πi·u(i − p)/H}, the integer angle reduced mod H first.
                    for (int i = 0; i < kh; i++)
                    {
                        double angle = 2 * Math.PI * Mod(u * (i - G.Padding), G.Height) / G.Height;
                        rowPhase[2 * i] = Math.Cos(angle); rowPhase[2 * i + 1] = Math.Sin(angle);
                    }
                    for (int j = 0; j < kw; j++)
                    {
                        double angle = 2 * Math.PI * Mod(v * (j - G.Padding), G.Width) / G.Width;
                        colPhase[2 * j] = Math.Cos(angle); colPhase[2 * j + 1] = Math.Sin(angle);
                    }
                    // Ŵ(u, v) in float64, [C_out, C_in].
                    for (int o = 0; o < co; o++)
                        for (int ci = 0; ci < c; ci++)
                        {
                            double re = 0, im = 0;
                            T* taps = Weight + o * LdWeight + (long)ci * kh * kw;
                            for (int i = 0; i < kh; i++)
                                for (int j = 0; j < kw; j++)
                                {
                                    double tap = double.CreateTruncating(taps[i * kw + j]);
                                    double pr = rowPhase[2 * i] * colPhase[2 * j] - rowPhase[2 * i + 1] * colPhase[2 * j + 1];
                                    double pi = rowPhase[2 * i] * colPhase[2 * j + 1] + rowPhase[2 * i + 1] * colPhase[2 * j];
                                    re += tap * pr; im += tap * pi;
                                }
                            wr[o * c + ci] = re; wi[o * c + ci] = im;
                        }
                    // K̂ = ŴᴴŴ for c ≤ d, mirrored as its conjugate so that the embedding is exactly symmetric.
                    T* m = Spectrum + (long)f * n * n;
                    for (int a = 0; a < c; a++)
                        for (int d = a; d < c; d++)
                        {
                            double re = 0, im = 0;
                            for (int o = 0; o < co; o++)
                            {
                                double ar = wr[o * c + a], ai = wi[o * c + a], dr = wr[o * c + d], di = wi[o * c + d];
                                re += ar * dr + ai * di; im += ar * di - ai * dr;
                            }
                            T tr = T.CreateTruncating(re), ti = T.CreateTruncating(im);
                            m[a * n + d] = m[(c + a) * n + c + d] = tr; m[a * n + c + d] = -ti; m[(c + a) * n + d] = ti;
                            m[d * n + a] = m[(c + d) * n + c + a] = tr; m[d * n + c + a] = ti; m[(c + d) * n + a] = -ti;
                        }
                }
            }
        }

        private static int Mod(int a, int n) => ((a % n) + n) % n;
    }

    private struct ApplyParts<T> : IRangeBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Conv2dGeometry G;
        public Plan P;
        public int Batch, Stage;
        public T* Work, Spectrum;
        public RowPointer<T> V, Result;
        public T Beta;

        public readonly void Run(int q0, int q1)
        {
            for (int q = q0; q < q1; q++)
            {
                if (Stage == 1)
                {
                    int f0 = (int)((long)P.Frequencies * q / P.FrequencyParts), f1 = (int)((long)P.Frequencies * (q + 1) / P.FrequencyParts);
                    Products(f0, f1);
                    continue;
                }
                int b0 = (int)((long)Batch * q / P.SampleParts), b1 = (int)((long)Batch * (q + 1) / P.SampleParts);
                T* scratch = Work + P.Scratch + q * P.ScratchPerPart;
                for (int b = b0; b < b1; b++)
                    if (Stage == 0) Forward(b, scratch);
                    else Inverse(b, scratch);
            }
        }

        /// <summary>x̂ of sample b, every channel, into the spectra at [f][b][Re | Im].</summary>
        private readonly void Forward(int b, T* scratch)
        {
            int h = G.Height, w = G.Width, c = G.InChannels, wf = P.Wf, row = 2 * wf;
            T* rows = scratch, acc = scratch + (long)c * h * row + (long)h * row;
            T* cosH = Work + P.CosH, sinH = Work + P.SinH, spectra = Work + P.Spectra;
            // Along x: [C·H, W] × [W, cos | −sin] → per (channel, y) the row spectrum [Re | Im] of the Wf kept frequencies.
            NativeGemm.Gemm(false, false, c * h, row, w, T.One, V[b], w, Work + P.ForwardTable, row, T.Zero, rows, row);
            for (int ch = 0; ch < c; ch++)
            {
                T* a = rows + (long)ch * h * row;
                for (int u = 0; u < h; u++)
                {
                    // Along y: x̂(u, ·) = Σ_y e^{−2πi·uy/H}·a(y, ·) = Σ_y (cos − i·sin)(Re a + i·Im a).
                    new Span<T>(acc, row).Clear();
                    for (int y = 0; y < h; y++)
                    {
                        T cs = cosH[u * h + y], sn = sinH[u * h + y];
                        T* re = a + y * row, im = re + wf;
                        MulAdd2(acc, cs, re, sn, im, wf);
                        MulAdd2(acc + wf, cs, im, -sn, re, wf);
                    }
                    for (int v = 0; v < wf; v++)
                    {
                        T* lane = spectra + ((long)(u * wf + v) * Batch + b) * P.Lane;
                        lane[ch] = acc[v];
                        lane[c + ch] = acc[wf + v];
                    }
                }
            }
        }

        /// <summary>For each frequency in [f0, f1): [batch, 2C] spectra × the 2C × 2C embedding of K̂ (symmetric, so x̂ᵀM = (M x̂)ᵀ).</summary>
        private readonly void Products(int f0, int f1)
        {
            int lane = P.Lane;
            for (int f = f0; f < f1; f++)
            {
                long at = (long)f * Batch * lane;
                NativeGemm.Gemm(false, false, Batch, lane, lane, T.One, Work + P.Spectra + at, lane, Spectrum + (long)f * lane * lane, lane,
                    T.Zero, Work + P.Products + at, lane);
            }
        }

        /// <summary>Sample b's result ← the inverse DFT of its products + β·result.</summary>
        private readonly void Inverse(int b, T* scratch)
        {
            int h = G.Height, w = G.Width, c = G.InChannels, wf = P.Wf, row = 2 * wf;
            T* rows = scratch, spectrum = scratch + (long)c * h * row;
            T* cosH = Work + P.CosH, sinH = Work + P.SinH, products = Work + P.Products;
            for (int ch = 0; ch < c; ch++)
            {
                for (int u = 0; u < h; u++)
                    for (int v = 0; v < wf; v++)
                    {
                        T* lane = products + ((long)(u * wf + v) * Batch + b) * P.Lane;
                        spectrum[u * row + v] = lane[ch];
                        spectrum[u * row + wf + v] = lane[c + ch];
                    }
                // Along u: a(y, ·) = Σ_u e^{+2πi·uy/H}·ŷ(u, ·) = Σ_u (cos + i·sin)(Re ŷ + i·Im ŷ).
                for (int y = 0; y < h; y++)
                {
                    T* a = rows + ((long)ch * h + y) * row;
                    new Span<T>(a, row).Clear();
                    for (int u = 0; u < h; u++)
                    {
                        T cs = cosH[u * h + y], sn = sinH[u * h + y];
                        T* re = spectrum + u * row, im = re + wf;
                        MulAdd2(a, cs, re, -sn, im, wf);
                        MulAdd2(a + wf, cs, im, sn, re, wf);
                    }
                }
            }
            // Along x, real part only: [C·H, Re | Im] × [wᵥ·cos ; −wᵥ·sin]/(H·W) + β·result.
            NativeGemm.Gemm(false, false, c * h, w, row, T.One, rows, row, Work + P.InverseTable, w, Beta, Result[b], w);
        }
    }
}
