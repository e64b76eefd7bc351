namespace MachTransport.Mach.Linux;

/// <summary>
/// Out-of-line data of up to 1 MiB carried in a pipe instead of a memfd. The receiver copies it at receive time
/// anyway (<see cref="ReceivedRegionPool"/>), so it needs the bytes, not a mapping: a pipe's pages are neither
/// zero-filled nor put in the page cache, and nothing has to be sealed, which makes a 1 MiB message markedly
/// cheaper than a fresh memfd (docs/performance.md). Bytes in a pipe are the receiver's alone once the sender
/// has closed its write end: nobody can change what was written, only read it first, which the receiver sees
/// as short data and refuses. Reads never block (<c>RWF_NOWAIT</c>), whatever a sender does to the pipe's flags.
/// </summary>
internal static unsafe class OutOfLinePipe
{
    /// <summary>
    /// The largest payload a pipe carries: what an unprivileged process may size a pipe to by default
    /// (<c>/proc/sys/fs/pipe-max-size</c>), and the receiver's copy budget per message.
    /// </summary>
    public const uint MaxSize = (uint)ReceivedRegionPool.MaxPooledSize;

    /// <summary>Whether this kernel reads pipes without blocking on request (Linux 5.x and later); probed once.</summary>
    public static bool IsSupported { get; } = ProbeNoWaitReads();

    /// <summary>
    /// A pipe holding the <paramref name="size"/> bytes at <paramref name="source"/>, write end closed, or null
    /// when no pipe can take them (the caller then uses a memfd). <paramref name="error"/> is EFAULT when the
    /// memory cannot be read, else 0.
    /// </summary>
    public static LinuxFd? TryCarry(byte* source, uint size, out int error)
    {
        error = 0;
        if (!IsSupported || size == 0 || size > MaxSize)
        {
            return null;
        }

        int* ends = stackalloc int[2];
        if (Libc.pipe2(ends, Libc.O_CLOEXEC | Libc.O_NONBLOCK) != 0)
        {
            return null;
        }

        var readEnd = new LinuxFd(ends[0]);
        using var writeEnd = new LinuxFd(ends[1]);

        // Refused (EPERM) beyond pipe-max-size or once the user's pipes hold pipe-user-pages-soft pages.
        if (Libc.fcntl(ends[1], Libc.F_SETPIPE_SZ, (int)size) < size)
        {
            readEnd.Dispose();
            return null;
        }

        uint done = 0;
        while (done < size)
        {
            nint written = Libc.write(ends[1], source + done, size - done);
            if (written > 0)
            {
                done += (uint)written;
                continue;
            }

            int failure = written < 0 ? Libc.LastError : Libc.EAGAIN;
            if (failure == Libc.EINTR)
            {
                continue;
            }

            readEnd.Dispose();
            error = failure == Libc.EFAULT ? failure : 0;
            return null;
        }

        return readEnd;
    }

    /// <summary>Whether <paramref name="fd"/> is a pipe (or FIFO).</summary>
    public static bool IsPipe(int fd)
    {
        Libc.Statx stat;
        return Libc.statx(fd, string.Empty, Libc.AT_EMPTY_PATH, Libc.STATX_BASIC_STATS, &stat) == 0
            && (stat.Mode & Libc.S_IFMT) == Libc.S_IFIFO;
    }

    /// <summary>Reads exactly <paramref name="size"/> bytes without blocking; false if the pipe holds fewer.</summary>
    public static bool TryReadExactly(int fd, byte* destination, uint size)
    {
        uint done = 0;
        while (done < size)
        {
            var chunk = new Libc.IoVec { Base = destination + done, Length = size - done };
            nint read = Libc.preadv2(fd, &chunk, 1, -1, Libc.RWF_NOWAIT);
            if (read > 0)
            {
                done += (uint)read;
            }
            else if (read == 0 || Libc.LastError != Libc.EINTR)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>An empty pipe read with RWF_NOWAIT must fail with EAGAIN; a kernel without it refuses the flag (EOPNOTSUPP).</summary>
    private static bool ProbeNoWaitReads()
    {
        int* ends = stackalloc int[2];
        if (Libc.pipe2(ends, Libc.O_CLOEXEC | Libc.O_NONBLOCK) != 0)
        {
            return false;
        }

        using var readEnd = new LinuxFd(ends[0]);
        using var writeEnd = new LinuxFd(ends[1]);
        byte probe;
        var chunk = new Libc.IoVec { Base = &probe, Length = 1 };
        return Libc.preadv2(ends[0], &chunk, 1, -1, Libc.RWF_NOWAIT) == -1 && Libc.LastError == Libc.EAGAIN;
    }
}
