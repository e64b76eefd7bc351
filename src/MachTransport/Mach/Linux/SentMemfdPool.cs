namespace MachTransport.Mach.Linux;

/// <summary>
/// Memfds that carried copied out-of-line data, kept to carry more. A fresh memfd costs its pages (allocated,
/// zero-filled and freed again: ~245 µs of the ~306 µs a 1 MiB message took; writing into a memfd's existing pages
/// is ~61 µs). Each message carries a descriptor of its own to the pooled memfd (a new open file description, from
/// /proc/self/fd), and the memfd is written again only once every such description is closed: the kernel refuses a
/// read lease (<c>F_SETLEASE</c>) while another description has the file open for writing, so no receiver, no
/// message still in flight, no mapping and no process a receiver passed it on to can see what is written next.
/// Pooled memfds cannot be sealed; receivers copy unsealed data at once and only within their copy budget
/// (<see cref="ReceivedRegionPool.MaxPooledSize"/>), never map it.
/// </summary>
internal sealed unsafe class SentMemfdPool
{
    /// <summary>Largest payload carried by a pooled memfd: what a receiver copies at once.</summary>
    public const ulong MaxPooledSize = ReceivedRegionPool.MaxPooledSize;

    /// <summary>Memfds kept at most (free or still held by receivers); beyond it a send takes a fresh, sealed one.</summary>
    public const int MaxMemfds = 16;

    /// <summary>The pooled memfds' name (as /proc shows it: leak checks tell them from others by it).</summary>
    public const string Name = "mach-ool-pooled";

    private readonly List<Slot> _slots = [];
    private bool _leasesRefused;

    /// <summary>Memfds held now (tests look here to see reuse).</summary>
    public int Count
    {
        get
        {
            lock (_slots)
            {
                return _slots.Count;
            }
        }
    }

    /// <summary>
    /// A new descriptor (the caller's, to send and close) of a pooled memfd holding exactly <paramref name="size"/>
    /// bytes from <paramref name="address"/>; null when no pooled memfd is free and the pool is full (or leases are
    /// refused here), and the caller takes a fresh memfd. <paramref name="error"/> is an errno (EFAULT for bad memory).
    /// </summary>
    public LinuxFd? Write(ulong address, uint size, out int error)
    {
        error = 0;
        Slot? slot = Reserve();
        if (slot is null)
        {
            return null;
        }

        try
        {
            error = Fill(slot, (byte*)address, size);
            if (error != 0)
            {
                return null;
            }

            // Open for writing, this description keeps the memfd from reuse until the receiver (and everyone it
            // passes it to) has closed it.
            int fd = Libc.open(slot.ProcPath, Libc.O_RDWR | Libc.O_CLOEXEC, 0);
            if (fd < 0)
            {
                error = Libc.LastError;
                return null;
            }

            return new LinuxFd(fd);
        }
        finally
        {
            lock (_slots)
            {
                slot.Reserved = false;
            }
        }
    }

    /// <summary>The payload and nothing more: bytes of an earlier, longer one (sent to another peer, perhaps) are cut off.</summary>
    private static int Fill(Slot slot, byte* source, uint size)
    {
        // pwrite(2) reads the sender's memory in the kernel: a bad pointer is EFAULT, never a crash.
        ulong done = 0;
        while (done < size)
        {
            nint written = Libc.pwrite(slot.Fd.Number, source + done, (nuint)(size - done), (long)done);
            if (written <= 0)
            {
                int failure = written < 0 ? Libc.LastError : Libc.EFAULT;
                if (failure != Libc.EINTR)
                {
                    return failure;
                }

                continue;
            }

            done += (ulong)written;
        }

        if (slot.FileSize > size && Libc.ftruncate(slot.Fd.Number, size) != 0)
        {
            return Libc.LastError;
        }

        slot.FileSize = size;
        return 0;
    }

    private Slot? Reserve()
    {
        lock (_slots)
        {
            if (_leasesRefused)
            {
                return null;
            }

            foreach (Slot slot in _slots)
            {
                if (!slot.Reserved && IsFree(slot.Fd))
                {
                    slot.Reserved = true;
                    return slot;
                }
            }

            if (_slots.Count >= MaxMemfds)
            {
                return null;
            }

            // No MFD_ALLOW_SEALING: nobody, a receiver included, can seal it against our next write.
            int fd = Libc.memfd_create(Name, Libc.MFD_CLOEXEC);
            if (fd < 0)
            {
                return null;
            }

            var added = new Slot(new LinuxFd(fd)) { Reserved = true };
            if (!IsFree(added.Fd))
            {
                added.Fd.Dispose(); // leases are off here (fs.leases-enable = 0): no way to know when reuse is safe
                return null;
            }

            _slots.Add(added);
            return added;
        }
    }

    /// <summary>
    /// Whether no other description has the memfd open for writing, as every message's descriptor does: the kernel
    /// grants a read lease only then (caller holds the lock).
    /// </summary>
    private bool IsFree(LinuxFd memfd)
    {
        if (Libc.fcntl(memfd.Number, Libc.F_SETLEASE, Libc.F_RDLCK) == 0)
        {
            _ = Libc.fcntl(memfd.Number, Libc.F_SETLEASE, Libc.F_UNLCK);
            return true;
        }

        if (Libc.LastError != Libc.EAGAIN)
        {
            _leasesRefused = true;
        }

        return false;
    }

    private sealed class Slot(LinuxFd fd)
    {
        public LinuxFd Fd { get; } = fd;

        public string ProcPath { get; } = $"/proc/self/fd/{fd.Number}";

        public bool Reserved { get; set; }

        public ulong FileSize { get; set; }
    }
}
