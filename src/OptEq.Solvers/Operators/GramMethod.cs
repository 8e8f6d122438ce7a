namespace OptEq.Solvers.Operators;

/// <summary>
/// How an OptEq map with a convolution W applies its metric K = WᵀW at every solver iteration (docs/math.md §1.7). All
/// give the same K up to rounding; they differ in speed. <see cref="Convolutions"/> is the default (0) so that a
/// configuration without the setting means the behaviour from before it existed.
/// </summary>
public enum GramMethod
{
    /// <summary>A convolution then a transposed convolution over the whole batch (<see cref="GramOperator{T}"/>); any W.</summary>
    Convolutions = 0,
    /// <summary>Chosen by <see cref="GramMethods.Resolve"/> from W's geometry and the device.</summary>
    Auto,
    /// <summary>The two convolutions over row blocks whose intermediate stays in cache (<see cref="BlockedGramOperator{T}"/>); any W.</summary>
    Blocked,
    /// <summary>Per frequency K̂ = ŴᴴŴ, refreshed once per weight change (<see cref="FourierGramOperator{T}"/>); circular stride-1 W only.</summary>
    Fourier,
}

/// <summary>The names of the <see cref="GramMethod"/>s (as the command line and the model JSON write them), the automatic choice, and the operators.</summary>
public static class GramMethods
{
    /// <summary>
    /// Where the native convolutions do not run Winograd: from this many channels up, <see cref="GramMethod.Auto"/> takes
    /// the Fourier domain for a circular W. `opteq bench gram`, batch 128, 14×14, 3×3 circular, 2 AVX2 cores, with the
    /// direct kernel: at 32 channels cache-blocked two convolutions 15.1 ms, two convolutions 18.1, Fourier 19.0 (+5.1 per
    /// weight change); at 64 channels Fourier 26.9 against 50.1 and blocked 52.3. With Winograd F(2×2, 3×3) two
    /// convolutions were fastest at every width (32: 11.2 against blocked 12.1 and Fourier 15.2; 64: 27.7 against Fourier
    /// 28.4 + 34.4 per weight change, blocked 38.5).
    /// </summary>
    public const int FourierFromChannels = 48;

    private static readonly (GramMethod Method, string Name)[] Table =
        [(GramMethod.Auto, "auto"), (GramMethod.Convolutions, "convs"), (GramMethod.Blocked, "blocked"), (GramMethod.Fourier, "fourier")];

    /// <summary>"auto|convs|blocked|fourier".</summary>
    public static string NameList { get; } = string.Join("|", Table.Select(t => t.Name));

    /// <summary>The method's name: auto, convs, blocked or fourier.</summary>
    public static string Name(GramMethod method)
    {
        foreach (var (m, name) in Table) if (m == method) return name;
        throw new ArgumentOutOfRangeException(nameof(method), method, "unknown WᵀW method");
    }

    /// <summary>The method named <paramref name="name"/> (exact, lower case), or false.</summary>
    public static bool TryParse(string? name, out GramMethod method)
    {
        foreach (var (m, n) in Table)
            if (n == name) { method = m; return true; }
        method = default;
        return false;
    }

    /// <summary>Whether W (the geometry of its convolution) is circulant: stride 1, circular padding, output the input's size.</summary>
    public static bool IsCirculant(Conv2dGeometry w) => w.Stride == 1 && w.PaddingMode == ConvPadding.Circular && w.OutHeight == w.Height && w.OutWidth == w.Width;

    /// <summary>Why <paramref name="method"/> cannot apply WᵀW for this W, or null when it can.</summary>
    public static string? Problem(GramMethod method, Conv2dGeometry w) => method switch
    {
        GramMethod.Convolutions or GramMethod.Auto or GramMethod.Blocked => null,
        GramMethod.Fourier => IsCirculant(w) ? null
            : "the fourier WᵀW needs a circulant W (circular padding, stride 1, odd kernel): only such a convolution is diagonalised by the DFT",
        _ => $"unknown WᵀW method {(int)method}",
    };

    /// <summary>
    /// The method to use: <paramref name="method"/> itself unless it is <see cref="GramMethod.Auto"/>, which picks by the
    /// measurements in <see cref="FourierFromChannels"/>: two convolutions where the native CPU runs W and Wᵀ with
    /// Winograd (<paramref name="winograd"/>); otherwise on the native CPU blocked below 48 channels, from 48 channels
    /// Fourier for a circulant W and two convolutions for any other (blocking no longer helps there); on any other device
    /// two convolutions (the alternatives are CPU measurements, and a cache block only narrows a GPU's launch).
    /// </summary>
    public static GramMethod Resolve(GramMethod method, Conv2dGeometry w, DeviceKind device, bool winograd = false)
    {
        if (method != GramMethod.Auto) return method;
        if (device != DeviceKind.NativeCpu || winograd) return GramMethod.Convolutions;
        if (w.InChannels < FourierFromChannels) return GramMethod.Blocked;
        return IsCirculant(w) ? GramMethod.Fourier : GramMethod.Convolutions;
    }

    /// <summary><see cref="Resolve"/> for elements of type <typeparamref name="T"/>: Winograd where the native backend uses it for T.</summary>
    public static GramMethod Resolve<T>(GramMethod method, Conv2dGeometry w, DeviceKind device) where T : unmanaged
        => Resolve(method, w, device, device == DeviceKind.NativeCpu && typeof(T) == typeof(float) && OptEq.Kernels.Native.NativeConvolution.UsesWinograd(w));

    /// <summary>K = WᵀW by <paramref name="method"/> (resolved first) for rows of <paramref name="batch"/>; the caller owns it.</summary>
    public static IGramOperator<T> Create<T>(GramMethod method, Conv2dOperator<T> w, int batch) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(w);
        var resolved = Resolve<T>(method, w.Geometry, w.Device.Kind);
        if (Problem(resolved, w.Geometry) is string problem) throw new ArgumentException(problem, nameof(method));
        return resolved switch
        {
            GramMethod.Convolutions => new GramOperator<T>(w, batch),
            GramMethod.Blocked => new BlockedGramOperator<T>(w, batch, BlockedGramOperator<T>.RowsThatFit(w.OutputSize, Environment.ProcessorCount)),
            GramMethod.Fourier => new FourierGramOperator<T>(w, batch),
            _ => throw new ArgumentOutOfRangeException(nameof(method), method, "unknown WᵀW method"),
        };
    }
}
