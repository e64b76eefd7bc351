using System.Runtime.InteropServices;

namespace MachTransport.Mach.Linux;

/// <summary>
/// The sender's end of an out-of-line ring (<see cref="OolRing"/>): a shared mapping of the memfd it made for one
/// destination connection, to claim runs of chunks in the header and write payloads. The memfd is sealed against
/// shrinking and growing (so no mapping of it can ever fault) and against further seals (so the receiver cannot seal
/// it against our writes), and has mode 0. It is mapped, parked (<see cref="ParkedFd"/>) and closed at once: no
/// descriptor of it stays in this process's table, where a same-user process could reach it through
/// <c>/proc/&lt;pid&gt;/fd</c> (chmod, open). It is taken out of the park only to attach it to a datagram, until the
/// receive right's owner says it holds the ring (<see cref="ReceiverHoldsIt"/>). The handle is the mapping's address;
/// it is unmapped, and the park closed, once the last send that leased it is done.
/// </summary>
internal sealed unsafe class OolSendRing : SafeHandle
{
    private static readonly int s_pid = Libc.getpid();

    /// <summary>Set once process_vm_readv proves not allowed here (ENOSYS, EPERM): every later write uses pwrite.</summary>
    private static bool s_pwriteOnly;

    private readonly LinuxFd _parked;

    private OolSendRing(LinuxFd parked, nint mapping)
        : base(0, ownsHandle: true)
    {
        _parked = parked;
        SetHandle(mapping);
    }

    public override bool IsInvalid => handle == 0;

    /// <summary>Whether the receive right's owner says it holds the ring: datagrams then name runs without attaching it.</summary>
    public bool ReceiverHoldsIt => Volatile.Read(ref State(OolRing.HeldWord)) == OolRing.Held;

    /// <summary>
    /// A fresh ring, or null when the system is short of memory or descriptors, or the ring cannot be parked (the send
    /// then uses a memfd of its own).
    /// </summary>
    public static OolSendRing? Create()
    {
        int fd = Libc.memfd_create("mach-ool-ring", Libc.MFD_CLOEXEC | Libc.MFD_ALLOW_SEALING);
        if (fd < 0)
        {
            return null;
        }

        using var memfd = new LinuxFd(fd);
        // Mode 0: while a descriptor of it is in a table (from here to the park, and while a send attaches it), a
        // same-user process cannot simply open it through /proc/<pid>/fd (the open checks the file's mode).
        if (Libc.fchmod(fd, 0) != 0
            || Libc.ftruncate(fd, OolRing.FileSize) != 0
            || Libc.fcntl(fd, Libc.F_ADD_SEALS, Libc.F_SEAL_SHRINK | Libc.F_SEAL_GROW | Libc.F_SEAL_SEAL) != 0)
        {
            return null;
        }

        void* mapping = Libc.mmap(null, (nuint)OolRing.FileSize, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, fd, 0);
        if (mapping == (void*)-1)
        {
            return null;
        }

        LinuxFd? parked = ParkedFd.Park(fd);
        if (parked is null)
        {
            _ = Libc.munmap(mapping, (nuint)OolRing.FileSize);
            return null;
        }

        return new OolSendRing(parked, (nint)mapping);
    }

    /// <summary>The ring's memfd, out of the park for one datagram (the caller closes it once sent), or null.</summary>
    public LinuxFd? TakeMemfd()
    {
        int fd = ParkedFd.Take(_parked);
        return fd < 0 ? null : new LinuxFd(fd);
    }

    /// <summary>
    /// Claims a run of free chunks for <paramref name="length"/> bytes; false when none is free (the peer has not
    /// received them yet, or never frees: the caller then sends through a memfd of its own, never waits). Each chunk
    /// is claimed with a compare-and-swap, so concurrent senders of this process, and a receiver writing states as it
    /// likes, can never make two sends share a chunk of ours.
    /// </summary>
    public bool TryClaim(uint length, out uint firstChunk)
    {
        // First fit from the start: the pages a connection keeps resident are those of its largest burst in flight.
        uint count = OolRing.ChunksFor(length);
        for (uint first = 0; first + count <= OolRing.ChunkCount; first++)
        {
            uint claimed = 0;
            while (claimed < count && Interlocked.CompareExchange(ref State(first + claimed), OolRing.InFlight, OolRing.Free) == OolRing.Free)
            {
                claimed++;
            }

            if (claimed == count)
            {
                firstChunk = first;
                return true;
            }

            Release(first, claimed);
            first += claimed; // the chunk at first + claimed is taken: no run starting before it fits either
        }

        firstChunk = 0;
        return false;
    }

    /// <summary>
    /// Copies the payload into the claimed run through this process's own mapping, with <c>process_vm_readv</c> on
    /// itself: the kernel reads the sender's memory, so a bad address is EFAULT (MACH_SEND_INVALID_MEMORY), never a
    /// crash, and no lock of the file is taken. A <c>pwrite</c> would take the file's inode lock, which the receiver,
    /// who holds the file too, can keep for as long as it likes (a <c>write</c> from a page whose fault it never
    /// serves: userfaultfd, FUSE) and so stall every send. Where the call is not allowed (a seccomp filter) it falls
    /// back to <c>pwrite</c>. Returns 0 or the error.
    /// </summary>
    public int Write(uint firstChunk, byte* source, uint length)
    {
        byte* destination = (byte*)handle + OolRing.DataOffset(firstChunk);
        uint done = 0;
        while (done < length && !s_pwriteOnly)
        {
            var local = new Libc.IoVec { Base = destination + done, Length = length - done };
            var remote = new Libc.IoVec { Base = source + done, Length = length - done };
            nint copied = Libc.process_vm_readv(s_pid, &local, 1, &remote, 1, 0);
            if (copied > 0)
            {
                done += (uint)copied;
                continue;
            }

            int error = copied < 0 ? Libc.LastError : Libc.EFAULT;
            if (error is Libc.ENOSYS or Libc.EPERM)
            {
                s_pwriteOnly = true;
            }
            else if (error != Libc.EINTR)
            {
                return error;
            }
        }

        return done < length ? WriteWithPwrite(firstChunk, source + done, length - done, done) : 0;
    }

    /// <summary>The fallback: <c>pwrite</c> of the rest, from <paramref name="done"/> bytes into the run.</summary>
    private int WriteWithPwrite(uint firstChunk, byte* source, uint length, uint done)
    {
        using LinuxFd? memfd = TakeMemfd();
        if (memfd is null)
        {
            return Libc.EBADF;
        }

        using LinuxFd.Lease lease = memfd.Acquire();
        long offset = OolRing.DataOffset(firstChunk) + done;
        uint written = 0;
        while (written < length)
        {
            nint count = Libc.pwrite(lease.Number, source + written, length - written, offset + written);
            if (count <= 0)
            {
                int error = count < 0 ? Libc.LastError : Libc.EFAULT;
                if (error == Libc.EINTR)
                {
                    continue;
                }

                return error;
            }

            written += (uint)count;
        }

        return 0;
    }

    /// <summary>Frees a run this process claimed but did not send (the send failed or timed out).</summary>
    public void Release(uint firstChunk, uint count)
    {
        for (uint i = 0; i < count; i++)
        {
            Volatile.Write(ref State(firstChunk + i), OolRing.Free);
        }
    }

    protected override bool ReleaseHandle()
    {
        _ = Libc.munmap((void*)handle, (nuint)OolRing.FileSize);
        _parked.Dispose();
        return true;
    }

    private ref uint State(uint chunk) => ref ((uint*)handle)[chunk];
}
