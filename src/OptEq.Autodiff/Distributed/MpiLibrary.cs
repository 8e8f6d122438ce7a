using System.Runtime.InteropServices;
using System.Text;

namespace OptEq.Autodiff.Distributed;

/// <summary>
/// The few MPI calls data-parallel training needs, bound at run time from the MPI library the process was launched
/// with (<see cref="NativeLibrary"/>), so nothing loads MPI unless a run asks for it.
/// </summary>
/// <remarks>
/// MPI's C handles are not one ABI. Open MPI's <c>MPI_COMM_WORLD</c>, <c>MPI_FLOAT</c>, <c>MPI_SUM</c>, … are
/// pointers: the addresses of exported objects (<c>ompi_mpi_comm_world</c>, <c>ompi_mpi_float</c>,
/// <c>ompi_mpi_op_sum</c>), found here with <see cref="NativeLibrary.GetExport"/>. MPICH (and MS-MPI, Intel MPI)
/// use 32-bit integer constants, copied from MPICH 4.0.2's <c>mpi.h</c>. <c>MPI_IN_PLACE</c> is <c>(void*)1</c> in
/// Open MPI and <c>(void*)-1</c> in MPICH. Each call is made through a function pointer of the right signature for
/// the library found (pointer-sized or int handles), never by guessing from the calling convention.
/// </remarks>
public sealed unsafe class MpiLibrary
{
    /// <summary>Environment variable naming the MPI shared library to load (a path or a name), tried first.</summary>
    public const string LibraryVariable = "OPTEQ_MPI_LIBRARY";

    /// <summary>Sonames tried in order: Open MPI 3–5, then MPICH (and its ABI-compatible derivatives).</summary>
    public static readonly string[] DefaultNames = ["libmpi.so.40", "libmpi.so.12", "libmpich.so.12", "libmpi.so", "libmpich.so"];

    // MPICH handle constants (mpi.h of MPICH 4.0.2, Debian libmpich-dev 4.0.2-3): typedef int MPI_Comm etc.
    private const int MpichCommWorld = 0x44000000;
    private const int MpichFloat = 0x4c00040a;
    private const int MpichDouble = 0x4c00080b;
    private const int MpichMax = 0x58000001;
    private const int MpichSum = 0x58000003;
    private const int MpichErrorsReturn = 0x54000001;
    /// <summary>MPI_THREAD_SERIALIZED: 2 in both mpi.h files.</summary>
    private const int ThreadSerialized = 2;

    private readonly nint _library;
    private readonly bool _intHandles;
    private readonly nint _commWorld, _float, _double, _sum, _max, _errorsReturn, _inPlace;
    private readonly void* _initThread, _initialized, _finalize, _finalized, _commRank, _commSize, _allreduce, _bcast, _barrier,
        _abort, _setErrhandler, _errorString, _libraryVersion;

    private MpiLibrary(nint library, string path)
    {
        _library = library;
        Path = path;
        _initThread = Export("MPI_Init_thread");
        _initialized = Export("MPI_Initialized");
        _finalize = Export("MPI_Finalize");
        _finalized = Export("MPI_Finalized");
        _commRank = Export("MPI_Comm_rank");
        _commSize = Export("MPI_Comm_size");
        _allreduce = Export("MPI_Allreduce");
        _bcast = Export("MPI_Bcast");
        _barrier = Export("MPI_Barrier");
        _abort = Export("MPI_Abort");
        _setErrhandler = Export("MPI_Comm_set_errhandler");
        _errorString = Export("MPI_Error_string");
        _libraryVersion = Export("MPI_Get_library_version");
        if (NativeLibrary.TryGetExport(library, "ompi_mpi_comm_world", out var world))
        {
            Implementation = "Open MPI";
            _commWorld = world;
            _float = (nint)Export("ompi_mpi_float");
            _double = (nint)Export("ompi_mpi_double");
            _sum = (nint)Export("ompi_mpi_op_sum");
            _max = (nint)Export("ompi_mpi_op_max");
            _errorsReturn = (nint)Export("ompi_mpi_errors_return");
            _inPlace = 1;
        }
        else
        {
            Implementation = "MPICH";
            _intHandles = true;
            (_commWorld, _float, _double, _sum, _max, _errorsReturn) = (MpichCommWorld, MpichFloat, MpichDouble, MpichSum, MpichMax, MpichErrorsReturn);
            _inPlace = -1;
        }
    }

    /// <summary>"Open MPI" (pointer handles) or "MPICH" (integer handles).</summary>
    public string Implementation { get; }
    /// <summary>The library name or path that loaded.</summary>
    public string Path { get; }

    /// <summary>
    /// Loads the MPI library: <c>$OPTEQ_MPI_LIBRARY</c> when set, else the first of <see cref="DefaultNames"/> found.
    /// Throws <see cref="MpiException"/> naming what was tried when none loads.
    /// </summary>
    public static MpiLibrary Load()
    {
        var names = new List<string>();
        if (Environment.GetEnvironmentVariable(LibraryVariable) is { Length: > 0 } chosen) names.Add(chosen);
        names.AddRange(DefaultNames);
        foreach (string name in names)
            if (NativeLibrary.TryLoad(name, out var handle) && NativeLibrary.TryGetExport(handle, "MPI_Allreduce", out _))
                return new MpiLibrary(handle, name);
        throw new MpiException($"no MPI library could be loaded (tried {string.Join(", ", names)}); install Open MPI or MPICH, or set {LibraryVariable} to the path of libmpi");
    }

    private void* Export(string name) => NativeLibrary.TryGetExport(_library, name, out var address)
        ? (void*)address
        : throw new MpiException($"{Path} does not export {name}: not a usable MPI library");

    public bool IsInitialized()
    {
        int flag;
        Check(((delegate* unmanaged<int*, int>)_initialized)(&flag), "MPI_Initialized");
        return flag != 0;
    }

    public bool IsFinalized()
    {
        int flag;
        Check(((delegate* unmanaged<int*, int>)_finalized)(&flag), "MPI_Finalized");
        return flag != 0;
    }

    /// <summary>MPI_Init_thread asking for MPI_THREAD_SERIALIZED (calls from any one thread at a time); returns the level provided.</summary>
    public int InitThread()
    {
        int provided;
        Check(((delegate* unmanaged<int*, byte***, int, int*, int>)_initThread)(null, null, ThreadSerialized, &provided), "MPI_Init_thread");
        return provided;
    }

    public void FinalizeMpi() => Check(((delegate* unmanaged<int>)_finalize)(), "MPI_Finalize");

    /// <summary>Makes MPI errors on MPI_COMM_WORLD return codes (turned into <see cref="MpiException"/>) instead of aborting silently.</summary>
    public void ReturnErrors() => Check(_intHandles
        ? ((delegate* unmanaged<int, int, int>)_setErrhandler)((int)_commWorld, (int)_errorsReturn)
        : ((delegate* unmanaged<nint, nint, int>)_setErrhandler)(_commWorld, _errorsReturn), "MPI_Comm_set_errhandler");

    public int WorldRank()
    {
        int rank;
        Check(_intHandles ? ((delegate* unmanaged<int, int*, int>)_commRank)((int)_commWorld, &rank)
                          : ((delegate* unmanaged<nint, int*, int>)_commRank)(_commWorld, &rank), "MPI_Comm_rank");
        return rank;
    }

    public int WorldSize()
    {
        int size;
        Check(_intHandles ? ((delegate* unmanaged<int, int*, int>)_commSize)((int)_commWorld, &size)
                          : ((delegate* unmanaged<nint, int*, int>)_commSize)(_commWorld, &size), "MPI_Comm_size");
        return size;
    }

    /// <summary>In-place MPI_Allreduce over MPI_COMM_WORLD.</summary>
    public void AllreduceInPlace<T>(Span<T> values, MpiOp op) where T : unmanaged
    {
        if (values.IsEmpty) return;
        nint type = TypeOf<T>(), reduction = op == MpiOp.Sum ? _sum : _max;
        fixed (T* buffer = values)
            Check(_intHandles
                ? ((delegate* unmanaged<void*, void*, int, int, int, int, int>)_allreduce)((void*)_inPlace, buffer, values.Length, (int)type, (int)reduction, (int)_commWorld)
                : ((delegate* unmanaged<void*, void*, int, nint, nint, nint, int>)_allreduce)((void*)_inPlace, buffer, values.Length, type, reduction, _commWorld), "MPI_Allreduce");
    }

    /// <summary>MPI_Bcast over MPI_COMM_WORLD from <paramref name="root"/>.</summary>
    public void Broadcast<T>(Span<T> values, int root) where T : unmanaged
    {
        if (values.IsEmpty) return;
        nint type = TypeOf<T>();
        fixed (T* buffer = values)
            Check(_intHandles
                ? ((delegate* unmanaged<void*, int, int, int, int, int>)_bcast)(buffer, values.Length, (int)type, root, (int)_commWorld)
                : ((delegate* unmanaged<void*, int, nint, int, nint, int>)_bcast)(buffer, values.Length, type, root, _commWorld), "MPI_Bcast");
    }

    public void Barrier() => Check(_intHandles
        ? ((delegate* unmanaged<int, int>)_barrier)((int)_commWorld)
        : ((delegate* unmanaged<nint, int>)_barrier)(_commWorld), "MPI_Barrier");

    /// <summary>MPI_Abort on MPI_COMM_WORLD: ends every rank of the job with <paramref name="exitCode"/>.</summary>
    public void Abort(int exitCode)
    {
        if (_intHandles) ((delegate* unmanaged<int, int, int>)_abort)((int)_commWorld, exitCode);
        else ((delegate* unmanaged<nint, int, int>)_abort)(_commWorld, exitCode);
    }

    /// <summary>MPI_Get_library_version up to its first comma or line break (e.g. "Open MPI v4.1.4").</summary>
    public string LibraryVersion()
    {
        // MPI_MAX_LIBRARY_VERSION_STRING is 256 in Open MPI and 8192 in MPICH: the larger buffer serves both.
        var text = new byte[8192];
        int length;
        fixed (byte* buffer = text)
            Check(((delegate* unmanaged<byte*, int*, int>)_libraryVersion)(buffer, &length), "MPI_Get_library_version");
        string version = Encoding.UTF8.GetString(text, 0, Math.Clamp(length, 0, text.Length)).TrimEnd('\0', '\n', ' ');
        int end = version.IndexOfAny([',', '\n']);
        // MPICH says "MPICH Version:\t4.0.2": one space between words reads the same for both.
        return string.Join(' ', (end < 0 ? version : version[..end]).Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries));
    }

    private string ErrorString(int code)
    {
        var text = new byte[1024]; // MPI_MAX_ERROR_STRING: 256 (Open MPI), 512 (MPICH)
        int length = 0;
        fixed (byte* buffer = text)
            if (((delegate* unmanaged<int, byte*, int*, int>)_errorString)(code, buffer, &length) != 0) return $"MPI error {code}";
        return Encoding.UTF8.GetString(text, 0, Math.Clamp(length, 0, text.Length)).TrimEnd('\0');
    }

    private void Check(int code, string call)
    {
        if (code != 0) throw new MpiException($"{call} failed: {ErrorString(code)} (code {code})");
    }

    private nint TypeOf<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? _float
        : typeof(T) == typeof(double) ? _double
        : throw new NotSupportedException($"MPI reductions of {typeof(T).Name} are not bound; use float or double");
}

/// <summary>The reductions bound by <see cref="MpiLibrary"/>.</summary>
public enum MpiOp { Sum, Max }

/// <summary>An MPI library could not be loaded or an MPI call returned an error.</summary>
public sealed class MpiException(string message) : Exception(message);
