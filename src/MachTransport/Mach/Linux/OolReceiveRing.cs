using System.Runtime.InteropServices;

namespace MachTransport.Mach.Linux;

/// <summary>
/// The receiver's end of an out-of-line ring (<see cref="OolRing"/>): a shared mapping of the memfd one sender's
/// connection brought, kept with that connection (at most one per connection, so a peer's rings cost this process
/// at most <see cref="OolRing.FileSize"/> per connection it may hold). The memfd comes from an untrusted peer: it is
/// mapped only if it carries the seals that keep its size fixed (so touching the mapping can never fault), has
/// exactly the ring's size and mode 0. The handle is the mapping's address; it is unmapped once the connection is gone and no
/// receive is copying from it.
/// </summary>
internal sealed unsafe class OolReceiveRing : SafeHandle
{
    private readonly ulong _inode;
    private readonly ulong _device;

    private OolReceiveRing(nint mapping, ulong inode, ulong device)
        : base(0, ownsHandle: true)
    {
        SetHandle(mapping);
        _inode = inode;
        _device = device;
    }

    public override bool IsInvalid => handle == 0;

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
        return mapping == (void*)-1 ? null : new OolReceiveRing((nint)mapping, inode, device);
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

    protected override bool ReleaseHandle() => Libc.munmap((void*)handle, (nuint)OolRing.FileSize) == 0;

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
