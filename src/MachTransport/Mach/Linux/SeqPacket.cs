namespace MachTransport.Mach.Linux;

/// <summary>
/// The datagrams of port sockets: SOCK_SEQPACKET messages with descriptors (SCM_RIGHTS) and sender credentials
/// (SCM_CREDENTIALS), sent and received without blocking, and the checks and options of such a socket.
/// </summary>
internal static unsafe class SeqPacket
{
    /// <summary>Receive-side control space: the most descriptors a message may carry plus one <c>ucred</c>.</summary>
    public static readonly int ReceiveControlSize =
        Libc.CmsgHdr.Space(Libc.ScmMaxFd * sizeof(int)) + Libc.CmsgHdr.Space(sizeof(Libc.UCred));

    /// <summary>Whether the peer of <paramref name="fd"/> shut down its sending side (reads return end-of-file from now on).</summary>
    public static bool PeerShutDown(int fd)
    {
        var poll = new Libc.PollFd { Fd = fd, Events = Libc.POLLRDHUP };
        return Libc.poll(&poll, 1, 0) == 1 && (poll.ReturnedEvents & Libc.POLLRDHUP) != 0;
    }

    public static void EnablePassCredentials(int fd)
    {
        int one = 1;
        _ = Libc.setsockopt(fd, Libc.SOL_SOCKET, Libc.SO_PASSCRED, &one, sizeof(int));
    }

    /// <summary>The process that connected the socket's peer (SO_PEERCRED), 0 when unknown.</summary>
    public static int PeerPid(int fd)
    {
        Libc.UCred credentials = default;
        uint length = (uint)sizeof(Libc.UCred);
        return Libc.getsockopt(fd, Libc.SOL_SOCKET, Libc.SO_PEERCRED, &credentials, &length) == 0 ? credentials.Pid : 0;
    }

    /// <summary>Whether <paramref name="fd"/> is an AF_UNIX SOCK_SEQPACKET socket, the only thing a port right may be.</summary>
    public static bool IsPortSocket(int fd)
    {
        int domain = 0, type = 0;
        uint length = sizeof(int);
        if (Libc.getsockopt(fd, Libc.SOL_SOCKET, Libc.SO_DOMAIN, &domain, &length) != 0)
        {
            return false;
        }

        length = sizeof(int);
        return Libc.getsockopt(fd, Libc.SOL_SOCKET, Libc.SO_TYPE, &type, &length) == 0
            && domain == Libc.AF_UNIX && type == Libc.SOCK_SEQPACKET;
    }

    /// <summary>Sends one datagram without blocking. Returns 0 or an errno.</summary>
    public static int Send(int fd, ReadOnlySpan<byte> data, ReadOnlySpan<int> fds)
    {
        int controlSize = fds.Length > 0 ? Libc.CmsgHdr.Space(fds.Length * sizeof(int)) : 0;
        byte* control = stackalloc byte[Math.Max(controlSize, 1)];
        fixed (byte* bytes = data)
        {
            var iov = new Libc.IoVec { Base = bytes, Length = (nuint)data.Length };
            var header = new Libc.MsgHdr { Iov = &iov, IovLength = 1 };
            if (controlSize > 0)
            {
                new Span<byte>(control, controlSize).Clear();
                var cmsg = (Libc.CmsgHdr*)control;
                cmsg->Length = (nuint)(Libc.CmsgHdr.HeaderSize + (fds.Length * sizeof(int)));
                cmsg->Level = Libc.SOL_SOCKET;
                cmsg->Type = Libc.SCM_RIGHTS;
                fds.CopyTo(new Span<int>(control + Libc.CmsgHdr.HeaderSize, fds.Length));
                header.Control = control;
                header.ControlLength = (nuint)controlSize;
            }

            while (true)
            {
                if (Libc.sendmsg(fd, &header, Libc.MSG_DONTWAIT | Libc.MSG_NOSIGNAL) >= 0)
                {
                    return 0;
                }

                int error = Libc.LastError;
                if (error != Libc.EINTR)
                {
                    return error;
                }
            }
        }
    }

    /// <summary>
    /// Receives one datagram into <paramref name="buffer"/> without blocking. Its length is the datagram's full length
    /// (greater than the buffer when truncated; MSG_TRUNC is then set in <paramref name="messageFlags"/>).
    /// Every descriptor that arrived is stored in <paramref name="fds"/>; the caller owns them.
    /// </summary>
    public static DatagramRead Receive(int fd, Span<byte> buffer, Span<byte> control, List<int> fds, out Libc.UCred credentials, out bool hasCredentials, out int messageFlags)
    {
        credentials = default;
        hasCredentials = false;
        fixed (byte* bytes = buffer)
        fixed (byte* controlBytes = control)
        {
            var iov = new Libc.IoVec { Base = bytes, Length = (nuint)buffer.Length };
            var header = new Libc.MsgHdr { Iov = &iov, IovLength = 1, Control = controlBytes, ControlLength = (nuint)control.Length };
            nint received;
            while ((received = Libc.recvmsg(fd, &header, Libc.MSG_DONTWAIT | Libc.MSG_TRUNC | Libc.MSG_CMSG_CLOEXEC)) < 0)
            {
                int error = Libc.LastError;
                if (error != Libc.EINTR)
                {
                    messageFlags = 0;
                    return DatagramRead.Failure(error);
                }
            }

            messageFlags = header.Flags;
            int offset = 0;
            int length = (int)header.ControlLength;
            while (offset + Libc.CmsgHdr.HeaderSize <= length)
            {
                var cmsg = (Libc.CmsgHdr*)(controlBytes + offset);
                int cmsgLength = (int)cmsg->Length;
                if (cmsgLength < Libc.CmsgHdr.HeaderSize || offset + cmsgLength > length)
                {
                    break;
                }

                byte* data = controlBytes + offset + Libc.CmsgHdr.HeaderSize;
                int dataLength = cmsgLength - Libc.CmsgHdr.HeaderSize;
                if (cmsg->Level == Libc.SOL_SOCKET && cmsg->Type == Libc.SCM_RIGHTS)
                {
                    for (int i = 0; i + sizeof(int) <= dataLength; i += sizeof(int))
                    {
                        fds.Add(*(int*)(data + i));
                    }
                }
                else if (cmsg->Level == Libc.SOL_SOCKET && cmsg->Type == Libc.SCM_CREDENTIALS && dataLength >= sizeof(Libc.UCred))
                {
                    credentials = *(Libc.UCred*)data;
                    hasCredentials = true;
                }

                offset += Libc.CmsgHdr.Align(cmsgLength);
            }

            return new DatagramRead(received, 0);
        }
    }

    /// <summary>
    /// End-of-file with nothing left in the queue: a peek finds no datagram. (A zero-length datagram would also read
    /// as 0, but it brings its sender's credentials or descriptors, which show as a truncated control buffer.)
    /// </summary>
    public static bool IsDrained(int fd) => Peek(fd, null, 0, out int flags, out _) is { Failed: false, Length: 0 } && (flags & Libc.MSG_CTRUNC) == 0;

    /// <summary>
    /// Whether the next datagram carries descriptors, and its sender's pid (0 when it came without credentials), without
    /// dequeuing it or installing any: the control buffer has room for the credentials only, so descriptors show as
    /// MSG_CTRUNC. False when nothing is queued.
    /// </summary>
    public static bool PeekCarriesDescriptors(int fd, out int senderPid)
    {
        senderPid = 0;
        int size = Libc.CmsgHdr.Space(sizeof(Libc.UCred));
        byte* control = stackalloc byte[size];
        if (Peek(fd, control, size, out int flags, out nuint controlLength).Failed)
        {
            return false;
        }

        var cmsg = (Libc.CmsgHdr*)control;
        if (controlLength >= (nuint)Libc.CmsgHdr.HeaderSize + (nuint)sizeof(Libc.UCred)
            && cmsg->Level == Libc.SOL_SOCKET && cmsg->Type == Libc.SCM_CREDENTIALS)
        {
            senderPid = ((Libc.UCred*)(control + Libc.CmsgHdr.HeaderSize))->Pid;
        }

        return (flags & Libc.MSG_CTRUNC) != 0;
    }

    /// <summary>Length of the next datagram without dequeuing it (no descriptors are installed).</summary>
    public static DatagramRead PeekLength(int fd) => Peek(fd, null, 0, out _, out _);

    /// <summary>
    /// The next datagram's length and flags without dequeuing it, and its control messages in <paramref name="control"/>
    /// (<paramref name="controlSize"/> bytes, none when null): descriptors that do not fit are not installed, only flagged.
    /// </summary>
    private static DatagramRead Peek(int fd, byte* control, int controlSize, out int flags, out nuint controlLength)
    {
        byte dummy;
        var iov = new Libc.IoVec { Base = &dummy, Length = 0 };
        var header = new Libc.MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = (nuint)controlSize };
        nint received;
        while ((received = Libc.recvmsg(fd, &header, Libc.MSG_DONTWAIT | Libc.MSG_PEEK | Libc.MSG_TRUNC)) < 0)
        {
            int error = Libc.LastError;
            if (error != Libc.EINTR)
            {
                flags = 0;
                controlLength = 0;
                return DatagramRead.Failure(error);
            }
        }

        flags = header.Flags;
        controlLength = header.ControlLength;
        return new DatagramRead(received, 0);
    }
}
