using System.Runtime.InteropServices;

namespace OptEq.Kernels.Peers;

/// <summary>
/// OpenBLAS, loaded at run time when it is installed, as the peer that native GEMM figures are measured against.
/// Nothing here is needed by the library itself: when OpenBLAS is absent, <see cref="IsAvailable"/> is false and
/// <see cref="TryLoad"/> says why.
/// </summary>
/// <remarks>
/// OpenBLAS builds with DYNAMIC_ARCH pick their kernels at load time, from the CPU or from <c>OPENBLAS_CORETYPE</c>, and a
/// wrong pick costs much (on a 2-core Zen 5, OpenBLAS 0.3.21 with Haswell's AVX2 kernels gives about 210 GFLOP/s at 1024³
/// against about 420 with SkylakeX's AVX-512 ones). So, before loading, <c>OPENBLAS_CORETYPE</c> is set to
/// <see cref="DefaultCoreType"/> (SkylakeX with AVX-512, Haswell with AVX2 and FMA) unless the user has set it. OpenBLAS reads it with getenv, and
/// <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not reach the native environment on Unix,
/// hence libc's setenv.
/// </remarks>
public static unsafe class OpenBlas
{
    public const string CoreTypeVariable = "OPENBLAS_CORETYPE";

    /// <summary>
    /// The kernels OpenBLAS is given when the environment names none: SkylakeX where the CPU (as the JIT sees it) has
    /// AVX-512, Haswell where it has AVX2 and FMA (SkylakeX's kernels would fault there), else null: OpenBLAS's own pick.
    /// </summary>
    public static string? DefaultCoreType { get; } =
        System.Runtime.Intrinsics.X86.Avx512F.IsSupported ? "SkylakeX"
        : System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported ? "Haswell"
        : null;

    /// <summary>A library file or name to load instead of the usual ones (e.g. another OpenBLAS build).</summary>
    public const string LibraryVariable = "OPTEQ_OPENBLAS";

    private static readonly string[] LibraryNames = ["libopenblas.so.0", "libopenblas.so", "libopenblas.dylib", "libopenblas.dll", "openblas"];

    // cblas enum values (cblas.h).
    private const int RowMajor = 101, NoTrans = 111, Trans = 112;

    private static readonly Lock Gate = new();
    private static bool _attempted;
    private static string? _why;
    private static delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> _sgemm;
    private static delegate* unmanaged<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void> _dgemm;

    /// <summary>True when OpenBLAS could be loaded (loads it on first use).</summary>
    public static bool IsAvailable => TryLoad(out _);

    /// <summary>The file that was loaded, or null.</summary>
    public static string? LibraryPath { get; private set; }

    /// <summary>The kernel family OpenBLAS chose (openblas_get_corename), e.g. "SkylakeX"; null when unknown.</summary>
    public static string? CoreName { get; private set; }

    /// <summary>The build configuration string (openblas_get_config); null when unknown.</summary>
    public static string? Config { get; private set; }

    /// <summary>The OPENBLAS_CORETYPE found in the environment before loading (then it was left as is); null when OptEq set it.</summary>
    public static string? CoreTypeFromEnvironment { get; private set; }

    /// <summary>Threads OpenBLAS uses (openblas_get_num_threads); 0 when unknown.</summary>
    public static int Threads { get; private set; }

    /// <summary>Loads OpenBLAS once. Returns false with a reason when it is not installed or lacks cblas_sgemm; never throws.</summary>
    public static bool TryLoad(out string? why)
    {
        lock (Gate)
        {
            if (!_attempted)
            {
                _attempted = true;
                _why = Load();
            }
            why = _why;
            return _why is null;
        }
    }

    private static string? Load()
    {
        try
        {
            SetCoreTypeIfUnset();
            var tried = new List<string>();
            var chosen = Environment.GetEnvironmentVariable(LibraryVariable);
            foreach (var name in string.IsNullOrWhiteSpace(chosen) ? LibraryNames : [chosen.Trim()])
            {
                if (!NativeLibrary.TryLoad(name, typeof(OpenBlas).Assembly, null, out var handle)) { tried.Add(name); continue; }
                if (!NativeLibrary.TryGetExport(handle, "cblas_sgemm", out var sgemm))
                    return $"{name} has no cblas_sgemm export";
                _sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)sgemm;
                if (NativeLibrary.TryGetExport(handle, "cblas_dgemm", out var dgemm))
                    _dgemm = (delegate* unmanaged<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void>)dgemm;
                LibraryPath = ResolvePath(name);
                CoreName = CallString(handle, "openblas_get_corename");
                Config = CallString(handle, "openblas_get_config");
                if (NativeLibrary.TryGetExport(handle, "openblas_get_num_threads", out var threads))
                    Threads = ((delegate* unmanaged<int>)threads)();
                return null;
            }
            return string.IsNullOrWhiteSpace(chosen)
                ? $"OpenBLAS not found (tried {string.Join(", ", tried)}); on Debian/Ubuntu: apt-get install libopenblas0-pthread"
                : $"OpenBLAS not found at {LibraryVariable}={chosen}";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or InvalidOperationException)
        {
            return $"OpenBLAS could not be loaded: {e.Message}";
        }
    }

    /// <summary>C ← α·op(A)·op(B) + β·C, row-major (cblas_sgemm with CblasRowMajor). op(A) is m×k.</summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        EnsureLoaded();
        _sgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /// <summary>float64 counterpart of <see cref="Sgemm"/> (cblas_dgemm).</summary>
    public static void Dgemm(bool transA, bool transB, int m, int n, int k, double alpha, double* a, int lda, double* b, int ldb, double beta, double* c, int ldc)
    {
        EnsureLoaded();
        if (_dgemm == null) throw new InvalidOperationException($"{LibraryPath} has no cblas_dgemm export");
        _dgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    private static void EnsureLoaded()
    {
        if (!TryLoad(out var why)) throw new InvalidOperationException(why);
    }

    /// <summary>
    /// setenv(OPENBLAS_CORETYPE, <see cref="DefaultCoreType"/>) in the native environment unless the variable is already
    /// there, in which case the user's value wins and is recorded in <see cref="CoreTypeFromEnvironment"/>.
    /// </summary>
    private static void SetCoreTypeIfUnset()
    {
        string? libc = OperatingSystem.IsLinux() ? "libc.so.6" : OperatingSystem.IsMacOS() ? "libSystem.dylib" : null;
        if (libc is null || !NativeLibrary.TryLoad(libc, out var handle)) return;
        if (!NativeLibrary.TryGetExport(handle, "getenv", out var getenv) || !NativeLibrary.TryGetExport(handle, "setenv", out var setenv)) return;
        byte[] chosen = System.Text.Encoding.ASCII.GetBytes((DefaultCoreType ?? "") + "\0");
        fixed (byte* name = "OPENBLAS_CORETYPE\0"u8, value = chosen)
        {
            var current = ((delegate* unmanaged<byte*, byte*>)getenv)(name);
            if (current != null)
            {
                CoreTypeFromEnvironment = Marshal.PtrToStringUTF8((nint)current);
                return;
            }
            if (DefaultCoreType is not null) ((delegate* unmanaged<byte*, byte*, int, int>)setenv)(name, value, 0);
        }
    }

    private static string? CallString(nint handle, string export)
    {
        if (!NativeLibrary.TryGetExport(handle, export, out var f)) return null;
        var s = ((delegate* unmanaged<byte*>)f)();
        return s == null ? null : Marshal.PtrToStringUTF8((nint)s)?.Trim();
    }

    /// <summary>The file behind a library name, for printing: the first match in the usual directories, else the name.</summary>
    private static string ResolvePath(string name)
    {
        if (Path.IsPathRooted(name)) return name;
        foreach (var dir in new[] { "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib" })
        {
            var path = Path.Combine(dir, name);
            if (File.Exists(path))
            {
                var target = new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true);
                return target?.FullName ?? path;
            }
        }
        return name;
    }
}
