using System.Numerics;
using ILGPU;

namespace OptEq.Kernels.Ilgpu.Kernels;

/// <summary>The trigonometry the Fourier kernels need, as a constrained struct so that one generic kernel serves float and double.</summary>
public interface IFourierMath<T> where T : unmanaged
{
    /// <summary>cos(2π·m/n) for 0 ≤ m &lt; n.</summary>
    T Cos(int m, int n);
    /// <summary>sin(2π·m/n) for 0 ≤ m &lt; n.</summary>
    T Sin(int m, int n);
    T Sqrt(T x);
}

public readonly struct FourierMathFloat : IFourierMath<float>
{
    public float Cos(int m, int n) => MathF.Cos(2 * MathF.PI * m / n);
    public float Sin(int m, int n) => MathF.Sin(2 * MathF.PI * m / n);
    public float Sqrt(float x) => MathF.Sqrt(x);
}

public readonly struct FourierMathDouble : IFourierMath<double>
{
    public double Cos(int m, int n) => Math.Cos(2 * Math.PI * m / n);
    public double Sin(int m, int n) => Math.Sin(2 * Math.PI * m / n);
    public double Sqrt(double x) => Math.Sqrt(x);
}

/// <summary>The sizes of one Fourier-domain launch.</summary>
public struct FourierArgs<T> where T : unmanaged
{
    public int Channels, OutChannels, Height, Width, KernelHeight, KernelWidth, Padding, Wf, Frequencies, Batch;
    /// <summary>Row strides of the weight, of v and of the result.</summary>
    public long LdWeight, LdV, LdResult;
    public T Beta;
    /// <summary>1 / (H·W), computed on the host.</summary>
    public T Scale;
}

/// <summary>
/// The Fourier-domain WᵀW on an accelerator, one thread per result element, each summing its definition directly
/// (references: <see cref="Reference.ReferenceKernels.CircularGramSpectrum"/>, <see cref="Reference.ReferenceKernels.CircularGram"/>).
/// Angles are reduced as integers mod n before the trigonometry. Spectra are frequency-major, [f][sample][Re | Im], as
/// on the native backend.
/// </summary>
public static class CircularConvSpectrumKernels
{
    /// <summary>One thread per (frequency f, entry (a, d) of K̂): K̂[a, d](u, v) = Σ_o conj(Ŵ[o, a])·Ŵ[o, d], written into the embedding.</summary>
    public static void Spectrum<T, TMath>(ArrayView<T> weight, ArrayView<T> spectrum, FourierArgs<T> p, TMath math)
        where T : unmanaged, IFloatingPointIeee754<T> where TMath : struct, IFourierMath<T>
    {
        int c = p.Channels, n = 2 * c, blocks = c * c;
        for (int f = GridStride.FirstRow; f < p.Frequencies; f += GridStride.RowStep)
            for (int e = GridStride.FirstCol; e < blocks; e += GridStride.ColStep)
            {
                int a = e / c, d = e % c, u = f / p.Wf, v = f % p.Wf;
                T re = T.Zero, im = T.Zero;
                for (int o = 0; o < p.OutChannels; o++)
                {
                    T ar = T.Zero, ai = T.Zero, dr = T.Zero, di = T.Zero;
                    for (int i = 0; i < p.KernelHeight; i++)
                        for (int j = 0; j < p.KernelWidth; j++)
                        {
                            int m = Mod(Mod(u * (i - p.Padding), p.Height) * p.Width + Mod(v * (j - p.Padding), p.Width) * p.Height, p.Height * p.Width);
                            T cs = math.Cos(m, p.Height * p.Width), sn = math.Sin(m, p.Height * p.Width);
                            long tap = (i * p.KernelWidth + j);
                            T wa = weight[o * p.LdWeight + (long)a * p.KernelHeight * p.KernelWidth + tap];
                            T wd = weight[o * p.LdWeight + (long)d * p.KernelHeight * p.KernelWidth + tap];
                            ar += wa * cs; ai += wa * sn; dr += wd * cs; di += wd * sn;
                        }
                    re += ar * dr + ai * di;
                    im += ar * di - ai * dr;
                }
                long at = (long)f * n * n;
                spectrum[at + a * n + d] = re;
                spectrum[at + (c + a) * n + c + d] = re;
                spectrum[at + a * n + c + d] = -im;
                spectrum[at + (c + a) * n + d] = im;
            }
    }

    /// <summary>One thread per (sample b, channel, kept frequency): x̂[ch](u, v) = Σ_{y,x} v[b, ch, y, x]·e^{−2πi(uy/H + vx/W)}.</summary>
    public static void Forward<T, TMath>(ArrayView<T> v, ArrayView<T> spectra, FourierArgs<T> p, TMath math)
        where T : unmanaged, IFloatingPointIeee754<T> where TMath : struct, IFourierMath<T>
    {
        int c = p.Channels, perSample = c * p.Frequencies, hw = p.Height * p.Width;
        for (int b = GridStride.FirstRow; b < p.Batch; b += GridStride.RowStep)
            for (int e = GridStride.FirstCol; e < perSample; e += GridStride.ColStep)
            {
                int ch = e / p.Frequencies, f = e % p.Frequencies, u = f / p.Wf, q = f % p.Wf;
                T re = T.Zero, im = T.Zero;
                for (int y = 0; y < p.Height; y++)
                    for (int x = 0; x < p.Width; x++)
                    {
                        int m = (u * y % p.Height * p.Width + q * x % p.Width * p.Height) % hw;
                        T value = v[b * p.LdV + ((long)ch * p.Height + y) * p.Width + x];
                        re += value * math.Cos(m, hw);
                        im -= value * math.Sin(m, hw);
                    }
                long lane = ((long)f * p.Batch + b) * 2 * c;
                spectra[lane + ch] = re;
                spectra[lane + c + ch] = im;
            }
    }

    /// <summary>One thread per (frequency, sample, embedding row j): products[f][b][j] = Σ_i spectra[f][b][i]·M_f[i, j].</summary>
    public static void Products<T>(ArrayView<T> spectrum, ArrayView<T> spectra, ArrayView<T> products, FourierArgs<T> p)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = 2 * p.Channels, perFrequency = p.Batch * n;
        for (int f = GridStride.FirstRow; f < p.Frequencies; f += GridStride.RowStep)
            for (int e = GridStride.FirstCol; e < perFrequency; e += GridStride.ColStep)
            {
                int b = e / n, j = e % n;
                long lane = ((long)f * p.Batch + b) * n, m = (long)f * n * n;
                T sum = T.Zero;
                for (int i = 0; i < n; i++) sum += spectra[lane + i] * spectrum[m + i * n + j];
                products[lane + j] = sum;
            }
    }

    /// <summary>
    /// One thread per result element: result[b, ch, y, x] = (1/HW)·Σ_u Σ_{v ≤ W/2} wᵥ·Re(ŷ[ch](u, v)·e^{+2πi(uy/H + vx/W)})
    /// + β·result, with wᵥ = 2 except for v = 0 and (even W) v = W/2, which are their own mirror.
    /// </summary>
    public static void Inverse<T, TMath>(ArrayView<T> products, ArrayView<T> result, FourierArgs<T> p, TMath math)
        where T : unmanaged, IFloatingPointIeee754<T> where TMath : struct, IFourierMath<T>
    {
        int c = p.Channels, hw = p.Height * p.Width, size = c * hw;
        T two = T.One + T.One;
        for (int b = GridStride.FirstRow; b < p.Batch; b += GridStride.RowStep)
            for (int e = GridStride.FirstCol; e < size; e += GridStride.ColStep)
            {
                int ch = e / hw, y = e % hw / p.Width, x = e % p.Width;
                T sum = T.Zero;
                for (int u = 0; u < p.Height; u++)
                    for (int q = 0; q < p.Wf; q++)
                    {
                        int m = (u * y % p.Height * p.Width + q * x % p.Width * p.Height) % hw;
                        long lane = ((long)(u * p.Wf + q) * p.Batch + b) * 2 * c;
                        T term = products[lane + ch] * math.Cos(m, hw) - products[lane + c + ch] * math.Sin(m, hw);
                        sum += q == 0 || 2 * q == p.Width ? term : two * term;
                    }
                long at = b * p.LdResult + e;
                result[at] = p.Beta == T.Zero ? sum * p.Scale : sum * p.Scale + p.Beta * result[at];
            }
    }

    /// <summary>One thread: norm[0] ← √(max(0, max over f of values[f, n − 1])).</summary>
    public static void Norm<T, TMath>(ArrayView<T> values, ArrayView<T> norm, int frequencies, int n, TMath math)
        where T : unmanaged, IFloatingPointIeee754<T> where TMath : struct, IFourierMath<T>
    {
        if (Grid.GlobalIndex.X != 0) return;
        T largest = T.Zero;
        for (int f = 0; f < frequencies; f++)
        {
            T lambda = values[(long)f * n + n - 1];
            if (lambda > largest) largest = lambda;
        }
        norm[0] = math.Sqrt(largest);
    }

    private static int Mod(int a, int n) => ((a % n) + n) % n;
}
