using System.Runtime.InteropServices;

namespace MachTransport.Mach.Linux;

/// <summary>
/// An owned file descriptor. The emulated kernel holds every socket and memfd through one, and
/// takes a reference around each syscall (<see cref="Lease"/>), so a right destroyed by one thread
/// never closes — and lets the number be reused under — another thread's send or receive.
/// </summary>
internal sealed class LinuxFd : SafeHandle
{
    private volatile CloseMode _closeMode;

    public LinuxFd(int fd)
        : this(fd, CloseMode.Now)
    {
    }

    private LinuxFd(int fd, CloseMode closeMode)
        : base(-1, ownsHandle: true)
    {
        SetHandle(fd);
        _closeMode = closeMode;
    }

    /// <summary>How the descriptor is closed once released.</summary>
    private enum CloseMode
    {
        /// <summary>On the releasing thread.</summary>
        Now,

        /// <summary>Shut down at once (its peers see that), then closed at once if nothing is queued in it, else by <see cref="DeferredClose"/>.</summary>
        ShutDownThenDeferred,

        /// <summary>Closed by <see cref="DeferredClose"/>, not shut down: the socket lives on elsewhere.</summary>
        Deferred,
    }

    public override bool IsInvalid => (int)handle < 0;

    /// <summary>The raw number; only valid while a lease or the owner keeps it open.</summary>
    public int Number => (int)handle;

    /// <summary>
    /// A socket other processes write into (a port's listener, a holder's connection): what they queued there may be
    /// descriptors whose release they can hold up, so it is shut down at once and closed by <see cref="DeferredClose"/>.
    /// </summary>
    public static LinuxFd PeerWritable(int fd) => new(fd, CloseMode.ShutDownThenDeferred);

    /// <summary>Keeps the descriptor open until the lease is disposed.</summary>
    public Lease Acquire()
    {
        bool added = false;
        DangerousAddRef(ref added);
        return new Lease(this);
    }

    /// <summary>
    /// Like <see cref="Acquire"/>, for a descriptor another thread may release at any moment: once released, the lease
    /// holds nothing (<see cref="Lease.Holds"/> is false) instead of throwing.
    /// </summary>
    public Lease TryAcquire()
    {
        try
        {
            return Acquire();
        }
        catch (ObjectDisposedException)
        {
            return default;
        }
    }

    /// <summary>Its socket went into a message (a moved receive right) and lives on there: not shut down when closed.</summary>
    public void GiveAway()
    {
        if (_closeMode == CloseMode.ShutDownThenDeferred)
        {
            _closeMode = CloseMode.Deferred;
        }
    }

    protected override bool ReleaseHandle()
    {
        switch (_closeMode)
        {
            case CloseMode.ShutDownThenDeferred:
                DeferredClose.ShutDownAndClose((int)handle);
                return true;
            case CloseMode.Deferred:
                DeferredClose.Close((int)handle);
                return true;
            default:
                return Libc.close((int)handle) == 0;
        }
    }

    /// <summary>A reference that keeps a <see cref="LinuxFd"/> open.</summary>
    public readonly struct Lease : IDisposable
    {
        private readonly LinuxFd? _fd;

        public Lease(LinuxFd fd) => _fd = fd;

        public int Number => _fd!.Number;

        /// <summary>False for a lease <see cref="TryAcquire"/> could not take.</summary>
        public bool Holds => _fd is not null;

        public void Dispose() => _fd?.DangerousRelease();
    }
}
