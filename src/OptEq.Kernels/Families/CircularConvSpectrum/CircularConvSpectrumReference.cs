using System.Numerics;

namespace OptEq.Kernels.Reference;

public static partial class ReferenceKernels
{
    /// <summary>
    /// Ŵ(u, v) of a circulant convolution (docs/math.md §1.7) by its definition: Ŵ[o, c] = Σ_{i,j} w[o, c, i, j]·
    /// e^{+2πi(u(i − p)/H + v(j − p)/W)} (the convolution reads x at (r − p + i, s − p + j), so its tap (i, j) multiplies
    /// x̂(u, v) by that phase). Returned as [OutChannels, InChannels].
    /// </summary>
    public static Complex[,] CircularConvTransfer(Conv2dGeometry g, double[] weight, int u, int v)
    {
        var w = new Complex[g.OutChannels, g.InChannels];
        for (int o = 0; o < g.OutChannels; o++)
            for (int c = 0; c < g.InChannels; c++)
                for (int i = 0; i < g.KernelHeight; i++)
                    for (int j = 0; j < g.KernelWidth; j++)
                    {
                        double phase = 2 * Math.PI * ((double)u * (i - g.Padding) / g.Height + (double)v * (j - g.Padding) / g.Width);
                        w[o, c] += weight[((o * g.InChannels + c) * g.KernelHeight + i) * g.KernelWidth + j] * Complex.FromPolarCoordinates(1, phase);
                    }
        return w;
    }

    /// <summary>K̂(u, v) = Ŵ(u, v)ᴴŴ(u, v), [InChannels, InChannels].</summary>
    public static Complex[,] CircularGramBlock(Conv2dGeometry g, double[] weight, int u, int v)
    {
        var w = CircularConvTransfer(g, weight, u, v);
        var k = new Complex[g.InChannels, g.InChannels];
        for (int c = 0; c < g.InChannels; c++)
            for (int d = 0; d < g.InChannels; d++)
                for (int o = 0; o < g.OutChannels; o++) k[c, d] += Complex.Conjugate(w[o, c]) * w[o, d];
        return k;
    }

    /// <summary>
    /// The spectrum tensor of <see cref="CircularConvSpectrumExtensions.CircularGramSpectrum{T}"/>: for f = u·(W/2 + 1) + v,
    /// the 2C × 2C embedding [[Re K̂, −Im K̂], [Im K̂, Re K̂]], row-major.
    /// </summary>
    public static double[] CircularGramSpectrum(Conv2dGeometry g, double[] weight)
    {
        int wf = g.Width / 2 + 1, c = g.InChannels, n = 2 * c;
        var spectrum = new double[g.Height * wf * n * n];
        for (int u = 0; u < g.Height; u++)
            for (int v = 0; v < wf; v++)
            {
                var k = CircularGramBlock(g, weight, u, v);
                int at = (u * wf + v) * n * n;
                for (int i = 0; i < c; i++)
                    for (int j = 0; j < c; j++)
                    {
                        spectrum[at + i * n + j] = spectrum[at + (c + i) * n + c + j] = k[i, j].Real;
                        spectrum[at + i * n + c + j] = -k[i, j].Imaginary;
                        spectrum[at + (c + i) * n + j] = k[i, j].Imaginary;
                    }
            }
        return spectrum;
    }

    /// <summary>
    /// WᵀW·v (+ β·result) by the plain DFT over all H·W frequencies, without the half-spectrum symmetry the kernels use:
    /// x̂[c](u, v) = Σ_{y,x} v[c, y, x]·e^{−2πi(uy/H + vx/W)}, ŷ = K̂(u, v)·x̂, result = Re of the inverse DFT of ŷ.
    /// </summary>
    public static double[] CircularGram(Conv2dGeometry g, int batch, double[] weight, double[] v, double beta = 0, double[]? result = null)
    {
        int h = g.Height, w = g.Width, c = g.InChannels, size = g.InputSize;
        var blocks = new Complex[h, w][,];
        for (int u = 0; u < h; u++)
            for (int q = 0; q < w; q++) blocks[u, q] = CircularGramBlock(g, weight, u, q);
        var y = new double[batch * size];
        var xhat = new Complex[c, h, w];
        var yhat = new Complex[c, h, w];
        for (int b = 0; b < batch; b++)
        {
            for (int ch = 0; ch < c; ch++)
                for (int u = 0; u < h; u++)
                    for (int q = 0; q < w; q++)
                    {
                        Complex sum = 0;
                        for (int r = 0; r < h; r++)
                            for (int s = 0; s < w; s++)
                                sum += v[b * size + (ch * h + r) * w + s] * Complex.FromPolarCoordinates(1, -2 * Math.PI * ((double)u * r / h + (double)q * s / w));
                        xhat[ch, u, q] = sum;
                    }
            for (int u = 0; u < h; u++)
                for (int q = 0; q < w; q++)
                    for (int i = 0; i < c; i++)
                    {
                        Complex sum = 0;
                        for (int j = 0; j < c; j++) sum += blocks[u, q][i, j] * xhat[j, u, q];
                        yhat[i, u, q] = sum;
                    }
            for (int ch = 0; ch < c; ch++)
                for (int r = 0; r < h; r++)
                    for (int s = 0; s < w; s++)
                    {
                        Complex sum = 0;
                        for (int u = 0; u < h; u++)
                            for (int q = 0; q < w; q++)
                                sum += yhat[ch, u, q] * Complex.FromPolarCoordinates(1, 2 * Math.PI * ((double)u * r / h + (double)q * s / w));
                        int at = b * size + (ch * h + r) * w + s;
                        y[at] = sum.Real / (h * w) + (beta == 0 || result is null ? 0 : beta * result[at]);
                    }
        }
        return y;
    }

    /// <summary>
    /// ‖W‖₂ of a circulant convolution: the largest singular value of Ŵ(u, v) over all H·W frequencies, each from the
    /// float64 Jacobi eigenvalues of K̂(u, v)'s real embedding (<see cref="SymmetricEigen"/>).
    /// </summary>
    public static double CircularConvNorm(Conv2dGeometry g, double[] weight)
    {
        int c = g.InChannels, n = 2 * c;
        double largest = 0;
        for (int u = 0; u < g.Height; u++)
            for (int q = 0; q < g.Width; q++)
            {
                var k = CircularGramBlock(g, weight, u, q);
                var m = new double[n * n];
                for (int i = 0; i < c; i++)
                    for (int j = 0; j < c; j++)
                    {
                        m[i * n + j] = m[(c + i) * n + c + j] = k[i, j].Real;
                        m[i * n + c + j] = -k[i, j].Imaginary;
                        m[(c + i) * n + j] = k[i, j].Imaginary;
                    }
                largest = Math.Max(largest, SymmetricEigen(n, m).Values[^1]);
            }
        return Math.Sqrt(largest);
    }
}
