using System.Runtime.InteropServices;

namespace MachTransport.Mach.Linux;

/// <summary>
/// The receiver's end of an out-of-line ring (<see cref="OolRing"/>): a shared mapping of the memfd one sender's
/// connection brought, kept with that connection (at most one per connection, so a peer's rings cost this process
/// at most <see cref="OolRing.FileSize"/> per connection it may hold). The memfd comes from an untrusted peer: it is
/// mapped only if it carries the seals that keep its size fixed (so touching the mapping can never fault), has
/// exactly the ring's size and mode 0. Its descriptor is parked (<see cref="ParkedFd"/>), not kept in the table, where a
/// same-user process could reach it through <c>/proc/&lt;pid&gt;/fd</c>: it is taken out only to hand the ring on with
/// the receive right. The handle is the mapping's address; it is unmapped, and the park closed, once the connection
/// is gone and no receive is copying from it.
/// </summary>
internal sealed unsafe class OolReceiveRing : SafeHandle
{
    private readonly ulong _inode;
    private readonly ulong _device;
    private readonly LinuxFd? _parked;

    private OolReceiveRing(nint mapping, ulong inode, ulong device, LinuxFd? parked)
        : base(0, ownsHandle: true)
    {
        SetHandle(mapping);
        _inode = inode;
        _device = device;
        _parked = parked;
    }

    public override bool IsInvalid => handle == 0;

    /// <summary>
    /// Tells the sender, through the ring's header, whether it may name runs without attaching the ring: only when it
    /// is parked here, so that it can travel on with the receive right (else every datagram keeps attaching it, and a
    /// new owner maps it from the next one).
    /// </summary>
    public void TellSender() => Volatile.Write(ref ((uint*)handle)[OolRing.HeldWord], _parked is null ? 0 : OolRing.Held);

    /// <summary>The ring's memfd, out of the park to travel with a moving receive right (the caller closes it), or null.</summary>
    public LinuxFd? TakeMemfd()
    {
        int fd = _parked is null ? -1 : ParkedFd.Take(_parked);
        return fd < 0 ? null : new LinuxFd(fd);
    }

    /// <summary>
    /// Maps a ring memfd a peer sent, or null if it is not one: without the shrink and grow seals, of another size, or
    /// with a mode that lets other processes open it through <c>/proc</c> (so what a third process could rewrite before we
    /// copy it never reaches us as the sender's).
    /// </summary>
    public static OolReceiveRing? TryMap(int fd)
    {
        const int Required = Libc.F_SEAL_SHRINK | Libc.F_SEAL_GROW;
        int seals = Libc.fcntl(fd, Libc.F_GET_SEALS, 0);
        if (seals == -1 || (seals & Required) != Required
            || !TryIdentify(fd, out ulong inode, out ulong device, out ulong size, out uint mode)
            || size != OolRing.FileSize || (mode & 0xFFF) != 0)
        {
            return null;
        }

        // Shared: the receiver frees chunks by writing their states. A write-sealed file refuses this mapping (EPERM).
        void* mapping = Libc.mmap(null, (nuint)OolRing.FileSize, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, fd, 0);
        return mapping == (void*)-1 ? null : new OolReceiveRing((nint)mapping, inode, device, ParkedFd.Park(fd));
    }

    /// <summary>Whether <paramref name="fd"/> is this ring's file (a sender names one ring per connection, and may not swap it).</summary>
    public bool IsFileOf(int fd) => TryIdentify(fd, out ulong inode, out ulong device, out _, out _) && inode == _inode && device == _device;

    /// <summary>
    /// Copies a run out into <paramref name="destination"/> and sets its chunks free; false if the run does not lie
    /// within the ring. The copy is taken once, here, and nothing is parsed from the ring: a sender rewriting the run
    /// meanwhile only spoils its own message, and the receiver's copy cannot change after this returns.
    /// </summary>
    public bool TryCopyOut(uint firstChunk, uint length, byte* destination)
    {
        if (!OolRing.IsValidRun(firstChunk, length))
        {
            return false;
        }

        byte* source = (byte*)handle + OolRing.DataOffset(firstChunk);
        Buffer.MemoryCopy(source, destination, length, length);
        uint* states = (uint*)handle;
        uint count = OolRing.ChunksFor(length);
        for (uint i = 0; i < count; i++)
        {
            Volatile.Write(ref states[firstChunk + i], OolRing.Free);
        }

        return true;
    }

    protected override bool ReleaseHandle()
    {
        _parked?.Dispose();
        return Libc.munmap((void*)handle, (nuint)OolRing.FileSize) == 0;
    }

    private static bool TryIdentify(int fd, out ulong inode, out ulong device, out ulong size, out uint mode)
    {
        Libc.Statx stat;
        bool known = Libc.statx(fd, string.Empty, Libc.AT_EMPTY_PATH, Libc.STATX_BASIC_STATS, &stat) == 0;
        inode = stat.Inode;
        device = ((ulong)stat.DeviceMajor << 32) | stat.DeviceMinor;
        size = stat.Size;
        mode = stat.Mode;
        return known;
    }
}
