using System.Runtime.InteropServices;

namespace MachTransport.Mach.Linux;

/// <summary>
/// An owned file descriptor. The emulated kernel holds every socket and memfd through one, and
/// takes a reference around each syscall (<see cref="Lease"/>), so a right destroyed by one thread
/// never closes — and lets the number be reused under — another thread's send or receive.
/// </summary>
internal sealed class LinuxFd : SafeHandle
{
    public LinuxFd(int fd)
        : base(-1, ownsHandle: true)
    {
        SetHandle(fd);
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

    protected override bool ReleaseHandle() => Libc.close((int)handle) == 0;

    /// <summary>A reference that keeps a <see cref="LinuxFd"/> open.</summary>
    public readonly struct Lease : IDisposable
    {
        private readonly LinuxFd? _fd;

        public Lease(LinuxFd fd) => _fd = fd;

        public int Number => _fd!.Number;

        public void Dispose() => _fd?.DangerousRelease();
    }
}
