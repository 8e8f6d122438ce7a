using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using OptEq.Kernels.Ilgpu.Kernels;

namespace OptEq.Kernels.Ilgpu;

/// <summary>
/// The Fourier-domain WᵀW on an ILGPU accelerator (<see cref="CircularConvSpectrumKernels"/>): one thread per result
/// element for the spectrum, the forward DFT, the per-frequency products and the inverse DFT. The spectra live in a
/// workspace rented from the device pool and handed back once the launches are enqueued (the stream runs in order).
/// </summary>
internal sealed class CircularConvSpectrumIlgpu(IlgpuDevice device) : ICircularConvSpectrumBackend
{
    public void Spectrum<T>(in Conv2dGeometry g, MatrixView<T> weight, MatrixView<T> spectrum) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Supported<T>();
        var args = Args<T>(g, 0, weight.RowStride, 0, 0, T.Zero);
        var launch = device.ElementwiseLaunch(args.Frequencies, g.InChannels * g.InChannels);
        if (typeof(T) == typeof(float))
            device.Kernels.Get("circular-gram-spectrum", typeof(T), null, acc =>
                acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, FourierArgs<float>, FourierMathFloat>(CircularConvSpectrumKernels.Spectrum))
                (launch, Cast<T, float>(weight), Cast<T, float>(spectrum), Cast<T, float>(args), default);
        else
            device.Kernels.Get("circular-gram-spectrum", typeof(T), null, acc =>
                acc.LoadStreamKernel<ArrayView<double>, ArrayView<double>, FourierArgs<double>, FourierMathDouble>(CircularConvSpectrumKernels.Spectrum))
                (launch, Cast<T, double>(weight), Cast<T, double>(spectrum), Cast<T, double>(args), default);
    }

    public void Apply<T>(in Conv2dGeometry g, int batch, MatrixView<T> spectrum, MatrixView<T> v, MatrixView<T> result, T beta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Supported<T>();
        var args = Args<T>(g, batch, 0, v.RowStride, result.RowStride, beta);
        long lanes = (long)args.Frequencies * batch * 2 * g.InChannels;
        if (2 * lanes > int.MaxValue) throw new ShapeException($"circular-gram-apply: the workspace for {batch} samples of {g} is too large; apply in smaller batches");
        var workspace = device.Pool.Rent<T>((int)(2 * lanes));
        var spectra = IlgpuDevice.View(workspace.Storage, 0);
        var products = IlgpuDevice.View(workspace.Storage, lanes);
        var forward = device.ElementwiseLaunch(batch, g.InChannels * args.Frequencies);
        var product = device.ElementwiseLaunch(args.Frequencies, batch * 2 * g.InChannels);
        var inverse = device.ElementwiseLaunch(batch, g.InputSize);
        var productKernel = device.Kernels.Get("circular-gram-products", typeof(T), null, acc =>
            acc.LoadStreamKernel<ArrayView<T>, ArrayView<T>, ArrayView<T>, FourierArgs<T>>(CircularConvSpectrumKernels.Products));
        if (typeof(T) == typeof(float))
        {
            var a = Cast<T, float>(args);
            device.Kernels.Get("circular-gram-forward", typeof(T), null, acc =>
                acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, FourierArgs<float>, FourierMathFloat>(CircularConvSpectrumKernels.Forward))
                (forward, Cast<T, float>(v), spectra.Cast<float>(), a, default);
            productKernel(product, IlgpuDevice.View(spectrum), spectra, products, args);
            device.Kernels.Get("circular-gram-inverse", typeof(T), null, acc =>
                acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, FourierArgs<float>, FourierMathFloat>(CircularConvSpectrumKernels.Inverse))
                (inverse, products.Cast<float>(), Cast<T, float>(result), a, default);
        }
        else
        {
            var a = Cast<T, double>(args);
            device.Kernels.Get("circular-gram-forward", typeof(T), null, acc =>
                acc.LoadStreamKernel<ArrayView<double>, ArrayView<double>, FourierArgs<double>, FourierMathDouble>(CircularConvSpectrumKernels.Forward))
                (forward, Cast<T, double>(v), spectra.Cast<double>(), a, default);
            productKernel(product, IlgpuDevice.View(spectrum), spectra, products, args);
            device.Kernels.Get("circular-gram-inverse", typeof(T), null, acc =>
                acc.LoadStreamKernel<ArrayView<double>, ArrayView<double>, FourierArgs<double>, FourierMathDouble>(CircularConvSpectrumKernels.Inverse))
                (inverse, products.Cast<double>(), Cast<T, double>(result), a, default);
        }
        device.Pool.Return(workspace);
    }

    public void NormFromEigenvalues<T>(int frequencies, int n, MatrixView<T> values, MatrixView<T> norm) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Supported<T>();
        var launch = device.PerItemLaunch(1);
        if (typeof(T) == typeof(float))
            device.Kernels.Get("circular-conv-norm", typeof(T), null, acc =>
                acc.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int, FourierMathFloat>(CircularConvSpectrumKernels.Norm))
                (launch, Cast<T, float>(values), Cast<T, float>(norm), frequencies, n, default);
        else
            device.Kernels.Get("circular-conv-norm", typeof(T), null, acc =>
                acc.LoadStreamKernel<ArrayView<double>, ArrayView<double>, int, int, FourierMathDouble>(CircularConvSpectrumKernels.Norm))
                (launch, Cast<T, double>(values), Cast<T, double>(norm), frequencies, n, default);
    }

    private static void Supported<T>()
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException($"circular-gram: {typeof(T).Name} is not supported on ILGPU (float or double)");
    }

    private static FourierArgs<T> Args<T>(in Conv2dGeometry g, int batch, long ldWeight, long ldV, long ldResult, T beta) where T : unmanaged, IFloatingPointIeee754<T> => new()
    {
        Channels = g.InChannels, OutChannels = g.OutChannels, Height = g.Height, Width = g.Width,
        KernelHeight = g.KernelHeight, KernelWidth = g.KernelWidth, Padding = g.Padding,
        Wf = g.Width / 2 + 1, Frequencies = CircularConvSpectrumExtensions.Frequencies(g), Batch = batch,
        LdWeight = ldWeight, LdV = ldV, LdResult = ldResult, Beta = beta, Scale = T.One / T.CreateChecked(g.Height * g.Width),
    };

    private static ArrayView<TTo> Cast<TFrom, TTo>(MatrixView<TFrom> view) where TFrom : unmanaged where TTo : unmanaged
        => IlgpuDevice.View(view).Cast<TTo>();

    private static FourierArgs<TTo> Cast<TFrom, TTo>(FourierArgs<TFrom> args) where TFrom : unmanaged where TTo : unmanaged
        => System.Runtime.CompilerServices.Unsafe.As<FourierArgs<TFrom>, FourierArgs<TTo>>(ref args);
}
