using System.Runtime.InteropServices;

namespace MachTransport.Mach.Linux;

/// <summary>
/// An owned file descriptor. The emulated kernel holds every socket and memfd through one, and
/// takes a reference around each syscall (<see cref="Lease"/>), so a right destroyed by one thread
/// never closes — and lets the number be reused under — another thread's send or receive.
/// </summary>
internal sealed class LinuxFd : SafeHandle
{
    private readonly bool _peerWritable;

    public LinuxFd(int fd)
        : this(fd, peerWritable: false)
    {
    }

    private LinuxFd(int fd, bool peerWritable)
        : base(-1, ownsHandle: true)
    {
        SetHandle(fd);
        _peerWritable = peerWritable;
    }

    public override bool IsInvalid => (int)handle < 0;

    /// <summary>The raw number; only valid while a lease or the owner keeps it open.</summary>
    public int Number => (int)handle;

    /// <summary>Keeps the descriptor open until the lease is disposed.</summary>
    public Lease Acquire()
    {
        bool added = false;
        DangerousAddRef(ref added);
        return new Lease(this);
    }

    /// <summary>
    /// A socket other processes write into (a port's listener, a holder's connection): what they queued there may be
    /// descriptors whose release they can hold up, so it is shut down at once (its peers see that) and closed by
    /// <see cref="DeferredClose"/>.
    /// </summary>
    public static LinuxFd PeerWritable(int fd) => new(fd, peerWritable: true);

    protected override bool ReleaseHandle()
    {
        if (_peerWritable)
        {
            DeferredClose.ShutDownAndClose((int)handle);
            return true;
        }

        return Libc.close((int)handle) == 0;
    }

    /// <summary>A reference that keeps a <see cref="LinuxFd"/> open.</summary>
    public readonly struct Lease : IDisposable
    {
        private readonly LinuxFd? _fd;

        public Lease(LinuxFd fd) => _fd = fd;

        public int Number => _fd!.Number;

        public void Dispose() => _fd?.DangerousRelease();
    }
}
