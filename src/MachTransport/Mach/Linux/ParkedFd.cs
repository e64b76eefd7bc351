namespace MachTransport.Mach.Linux;

/// <summary>
/// A descriptor kept out of <c>/proc/&lt;pid&gt;/fd</c>: it sits in flight, in the queue of a datagram socket whose
/// sending end is closed, and this process holds only that socket. A same-user process can list and open
/// <c>/proc/&lt;pid&gt;/fd/N</c> (ptrace <i>read</i> access, which Yama does not restrict) and so reach a memfd through
/// it (chmod, then open), but a socket cannot be opened through <c>/proc</c> (ENXIO) and what is queued in it shows
/// nowhere there; taking it out needs <c>pidfd_getfd</c> or ptrace, ptrace <i>attach</i> access (which Yama does
/// restrict). <see cref="Take"/> peeks the datagram (<c>MSG_PEEK</c> installs a duplicate and leaves it queued), so the
/// parked descriptor can be taken any number of times for the moment it is needed, then closed again.
/// </summary>
internal static unsafe class ParkedFd
{
    /// <summary>
    /// Parks a duplicate of <paramref name="fd"/> (the caller still closes its own) and returns the socket that keeps it,
    /// or null if that fails (descriptors short; an unprivileged user's descriptors in flight are bounded by its
    /// RLIMIT_NOFILE across all its processes: ETOOMANYREFS).
    /// </summary>
    public static LinuxFd? Park(int fd)
    {
        int* pair = stackalloc int[2];
        if (Libc.socketpair(Libc.AF_UNIX, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0, pair) != 0)
        {
            return null;
        }

        int sent = SeqPacket.Send(pair[0], [0], [fd]);
        _ = Libc.close(pair[0]); // the queued datagram stays readable at the other end
        if (sent != 0)
        {
            _ = Libc.close(pair[1]);
            return null;
        }

        return new LinuxFd(pair[1]);
    }

    /// <summary>A duplicate of the parked descriptor (close-on-exec), owned by the caller, or -1 if it cannot be had.</summary>
    public static int Take(LinuxFd parked)
    {
        using LinuxFd.Lease lease = parked.TryAcquire();
        if (!lease.Holds)
        {
            return -1;
        }

        int size = Libc.CmsgHdr.Space(sizeof(int));
        byte* control = stackalloc byte[size];
        byte data;
        var iov = new Libc.IoVec { Base = &data, Length = 1 };
        var header = new Libc.MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = (nuint)size };
        while (Libc.recvmsg(lease.Number, &header, Libc.MSG_DONTWAIT | Libc.MSG_PEEK | Libc.MSG_CMSG_CLOEXEC) < 0)
        {
            if (Libc.LastError != Libc.EINTR)
            {
                return -1;
            }
        }

        var cmsg = (Libc.CmsgHdr*)control;
        return header.ControlLength >= (nuint)(Libc.CmsgHdr.HeaderSize + sizeof(int))
            && cmsg->Level == Libc.SOL_SOCKET && cmsg->Type == Libc.SCM_RIGHTS
            ? *(int*)(control + Libc.CmsgHdr.HeaderSize)
            : -1;
    }
}
