using System.Runtime.InteropServices;

namespace Backprop.Training.Distributed;

/// <summary>
/// The processes of an <c>mpirun</c> job (MPI_COMM_WORLD) as an <see cref="IShardGroup"/>, through a thin binding of
/// the few MPI calls it needs (Init, Comm_rank, Comm_size, Send, Recv, Bcast, Barrier, Abort, Finalize) to Open MPI's
/// <c>libmpi.so.40</c>, loaded only when a group is created: a machine without MPI runs everything else unchanged.
/// </summary>
/// <remarks>
/// Open MPI's handles (MPI_COMM_WORLD, MPI_BYTE) are the addresses of its predefined objects
/// (<c>ompi_mpi_comm_world</c>, <c>ompi_mpi_byte</c>), read from the library; MPICH's integer handles are a different
/// ABI and are not supported. The library is opened with RTLD_GLOBAL (Open MPI's plug-ins resolve symbols of
/// libmpi against the global scope); <c>BACKPROP_MPI_LIBRARY</c> names another file. MPI.NET 1.4.0 was not used: it
/// binds <c>msmpi.dll</c> with Microsoft MPI's integer handles (docs/distributed.md).
/// </remarks>
public sealed unsafe class MpiGroup : IShardGroup, IDisposable
{
    private static readonly object Gate = new();
    private static MpiGroup? _world;
    private readonly nint _comm, _byte;
    private readonly delegate* unmanaged<nint, int, nint, int, int, nint, int> _send;
    private readonly delegate* unmanaged<nint, int, nint, int, int, nint, nint, int> _recv;
    private readonly delegate* unmanaged<nint, int, nint, int, nint, int> _bcast;
    private readonly delegate* unmanaged<nint, int, int> _abort;
    private readonly delegate* unmanaged<nint, int> _barrier;
    private readonly delegate* unmanaged<int> _finalize;
    private bool _finalized;

    /// <summary>
    /// True when this process was started by <c>mpirun</c>/<c>mpiexec</c> (or a PMI/PMIx launcher such as
    /// <c>srun</c>): Open MPI sets <c>OMPI_COMM_WORLD_SIZE</c>, PMIx <c>PMIX_RANK</c>, MPICH's Hydra <c>PMI_SIZE</c>.
    /// </summary>
    public static bool UnderLauncher =>
        Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is { Length: > 0 }
        || Environment.GetEnvironmentVariable("PMIX_RANK") is { Length: > 0 }
        || Environment.GetEnvironmentVariable("PMI_SIZE") is { Length: > 0 };

    /// <summary>The library file opened: <c>BACKPROP_MPI_LIBRARY</c>, else <c>libmpi.so.40</c> (Open MPI 3 to 5).</summary>
    public static string LibraryName => Environment.GetEnvironmentVariable("BACKPROP_MPI_LIBRARY") is { Length: > 0 } name ? name : "libmpi.so.40";

    /// <summary>
    /// Initializes MPI (once per process) and returns the world group; throws <see cref="BackpropException"/> saying
    /// what is missing when the MPI library cannot be loaded or initialized.
    /// </summary>
    public static MpiGroup World()
    {
        lock (Gate)
            return _world ??= new MpiGroup();
    }

    private MpiGroup()
    {
        string name = LibraryName;
        nint lib = dlopen(name, RtldNow | RtldGlobal);
        if (lib == 0)
            throw new BackpropException($"cannot load the MPI library {name} ({Marshal.PtrToStringUTF8(dlerror()) ?? "not found"}); install Open MPI (Debian: apt-get install openmpi-bin libopenmpi-dev) or set BACKPROP_MPI_LIBRARY.");
        nint Get(string symbol) => NativeLibrary.TryGetExport(lib, symbol, out nint p) ? p
            : throw new BackpropException($"the MPI library {name} has no {symbol}: this binding supports Open MPI (libmpi.so.40) only.");
        _comm = Get("ompi_mpi_comm_world");
        _byte = Get("ompi_mpi_byte");
        var init = (delegate* unmanaged<nint, nint, int>)Get("MPI_Init");
        var initialized = (delegate* unmanaged<int*, int>)Get("MPI_Initialized");
        var rank = (delegate* unmanaged<nint, int*, int>)Get("MPI_Comm_rank");
        var size = (delegate* unmanaged<nint, int*, int>)Get("MPI_Comm_size");
        _send = (delegate* unmanaged<nint, int, nint, int, int, nint, int>)Get("MPI_Send");
        _recv = (delegate* unmanaged<nint, int, nint, int, int, nint, nint, int>)Get("MPI_Recv");
        _bcast = (delegate* unmanaged<nint, int, nint, int, nint, int>)Get("MPI_Bcast");
        _abort = (delegate* unmanaged<nint, int, int>)Get("MPI_Abort");
        _barrier = (delegate* unmanaged<nint, int>)Get("MPI_Barrier");
        _finalize = (delegate* unmanaged<int>)Get("MPI_Finalize");
        int flag = 0;
        Check(initialized(&flag), "MPI_Initialized");
        if (flag == 0)
            Check(init(0, 0), "MPI_Init");
        int r, k;
        Check(rank(_comm, &r), "MPI_Comm_rank");
        Check(size(_comm, &k), "MPI_Comm_size");
        Rank = r;
        Size = k;
    }

    /// <inheritdoc/>
    public int Rank { get; }

    /// <inheritdoc/>
    public int Size { get; }

    /// <inheritdoc/>
    public void Send(ReadOnlySpan<byte> data, int destination)
    {
        for (int at = 0; at < data.Length; at += MaxMessage)
        {
            var part = data.Slice(at, Math.Min(MaxMessage, data.Length - at));
            fixed (byte* p = part)
                Check(_send((nint)p, part.Length, _byte, destination, Tag, _comm), "MPI_Send");
        }
    }

    /// <inheritdoc/>
    public void Receive(Span<byte> data, int source)
    {
        for (int at = 0; at < data.Length; at += MaxMessage)
        {
            var part = data.Slice(at, Math.Min(MaxMessage, data.Length - at));
            fixed (byte* p = part)
                Check(_recv((nint)p, part.Length, _byte, source, Tag, _comm, 0), "MPI_Recv");
        }
    }

    /// <inheritdoc/>
    public void Broadcast(Span<byte> data, int root)
    {
        for (int at = 0; at < data.Length; at += MaxMessage)
        {
            var part = data.Slice(at, Math.Min(MaxMessage, data.Length - at));
            fixed (byte* p = part)
                Check(_bcast((nint)p, part.Length, _byte, root, _comm), "MPI_Bcast");
        }
    }

    /// <summary>Waits until every process of the group has called it.</summary>
    public void Barrier() => Check(_barrier(_comm), "MPI_Barrier");

    /// <inheritdoc/>
    public void Abort(int exitCode) => _abort(_comm, exitCode);

    /// <summary>Finalizes MPI (after this no MPI call may be made in this process).</summary>
    public void Dispose()
    {
        lock (Gate)
        {
            if (_finalized)
                return;
            _finalized = true;
            _finalize();
        }
    }

    // One message is at most 1 GiB (MPI counts are ints); longer buffers go in parts, in order.
    private const int MaxMessage = 1 << 30;
    private const int Tag = 19;
    private const int RtldNow = 2, RtldGlobal = 0x100;

    private static void Check(int rc, string call)
    {
        if (rc != 0)
            throw new BackpropException($"{call} failed with MPI error code {rc}.");
    }

    [DllImport("libc", EntryPoint = "dlopen")]
    private static extern nint dlopen([MarshalAs(UnmanagedType.LPUTF8Str)] string file, int mode);

    [DllImport("libc", EntryPoint = "dlerror")]
    private static extern nint dlerror();
}
