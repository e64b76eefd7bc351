using System.Security.Cryptography;

namespace MachTransport.Mach.Linux;

/// <summary>
/// The sockets of a port. A port is a listening SOCK_SEQPACKET socket bound to a random name in a private
/// directory, opened <c>O_PATH</c> and unlinked at once: the <c>O_PATH</c> descriptor is the capability (a send
/// right travels as it) and each holder connects its own socket through it (<c>/proc/self/fd/N</c> reaches the
/// socket also after the unlink).
/// </summary>
internal static unsafe class PortSocket
{
    /// <summary>Budget of one holder's queue in a port: its connection's send buffer (the kernel caps it at wmem_max).</summary>
    private const int SendBufferBytes = 4 * 1024 * 1024;
    /// <summary>Holders waiting to be accepted.</summary>
    public const int Backlog = 4096;

    /// <summary>The backlog of a full port: a unix listener then refuses (EAGAIN) every connect but one.</summary>
    public const int FullBacklog = 0;

    /// <summary>A new port: its listener (with SO_PASSCRED, inherited by accepted connections) and its <c>O_PATH</c>. Returns 0 or an errno.</summary>
    public static int Create(out LinuxFd listener, out LinuxFd path)
    {
        listener = path = null!;
        int fd = Libc.socket(Libc.AF_UNIX, Libc.SOCK_SEQPACKET | Libc.SOCK_CLOEXEC | Libc.SOCK_NONBLOCK, 0);
        if (fd < 0)
        {
            return Libc.LastError;
        }

        var socket = LinuxFd.PeerWritable(fd); // connections not yet accepted hold what their senders queued
        int one = 1;
        _ = Libc.setsockopt(fd, Libc.SOL_SOCKET, Libc.SO_PASSCRED, &one, sizeof(int));
        for (int attempt = 0; attempt < 8; attempt++)
        {
            // The registry directory when it is usable (private to the user; made again if something removed it), else a
            // private directory of this port's own, removed with the socket file's name right after.
            string? registry = BootstrapDomain.User.Ensure(create: true);
            string directory = registry ?? Directory.CreateTempSubdirectory("machtransport-ports-").FullName;
            string name = Path.Combine(directory, "p." + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)));
            int bound = SocketPath.Bind(fd, name);
            int opened = -1;
            int error = bound;
            if (bound == 0)
            {
                // Whoever holds the O_PATH may connect, of any user, as any holder of a send right may send in Mach; the
                // name, in a private directory, is gone in a moment, and nobody else can open a process's descriptors.
                _ = Libc.chmod(name, 0x1B6 /* 0666 */);
                opened = Libc.open(name, Libc.O_PATH | Libc.O_CLOEXEC, 0);
                error = opened < 0 ? Libc.LastError : 0;
                _ = Libc.unlink(name);
            }

            if (registry is null)
            {
                _ = Libc.rmdir(directory);
            }

            if (bound == Libc.EADDRINUSE)
            {
                continue;
            }

            if (bound != 0)
            {
                socket.Dispose();
                return bound;
            }

            if (opened < 0 || Libc.listen(fd, Backlog) != 0)
            {
                error = error != 0 ? error : Libc.LastError;
                if (opened >= 0)
                {
                    _ = Libc.close(opened);
                }

                socket.Dispose();
                return error;
            }

            listener = socket;
            path = new LinuxFd(opened);
            return 0;
        }

        socket.Dispose();
        return Libc.EADDRINUSE;
    }

    /// <summary>
    /// The owner's own connection to a new port, made at once (a connected pair; one end joins the port's queue) so a
    /// port costs a fixed number of descriptors from its creation on. Returns 0 or an errno.
    /// </summary>
    public static int CreateOwnConnection(out LinuxFd queueEnd, out LinuxFd send)
    {
        queueEnd = send = null!;
        int* fds = stackalloc int[2];
        if (Libc.socketpair(Libc.AF_UNIX, Libc.SOCK_SEQPACKET | Libc.SOCK_CLOEXEC, 0, fds) != 0)
        {
            return Libc.LastError;
        }

        SeqPacket.EnablePassCredentials(fds[0]);
        _ = Libc.shutdown(fds[1], Libc.SHUT_RD); // the queue end may move to another process with the receive right
        int bytes = SendBufferBytes;
        _ = Libc.setsockopt(fds[1], Libc.SOL_SOCKET, Libc.SO_SNDBUF, &bytes, sizeof(int));
        queueEnd = new LinuxFd(fds[0]);
        send = new LinuxFd(fds[1]);
        return 0;
    }

    /// <summary>
    /// This holder's own connection to the port behind <paramref name="path"/> (non-blocking: a unix connect completes
    /// without the owner accepting). Returns 0, ECONNREFUSED/ENOENT (the port is dead), EAGAIN (the port is full: its
    /// backlog has no room) or another errno. With a <paramref name="timeoutMilliseconds"/> other than 0 a full port is
    /// waited on for that long (-1: until it has room or dies), as a send waits on a full Mach queue.
    /// </summary>
    public static int Connect(int path, out LinuxFd? connection, int timeoutMilliseconds = 0)
    {
        connection = null;
        int fd = Libc.socket(Libc.AF_UNIX, Libc.SOCK_SEQPACKET | Libc.SOCK_CLOEXEC | (timeoutMilliseconds == 0 ? Libc.SOCK_NONBLOCK : 0), 0);
        if (fd < 0)
        {
            return Libc.LastError;
        }

        int error = SocketPath.ConnectWithin(fd, $"/proc/self/fd/{path}", timeoutMilliseconds);
        if (error != 0)
        {
            _ = Libc.close(fd);
            return error;
        }

        // Nothing travels back on a holder's connection: shut for reading, the port's owner cannot queue anything
        // into it (EPIPE), in particular no descriptor whose release it could hold up when we close it. An owner
        // that accepted and wrote in the moment before is hostile: the connection is refused as if the port were dead.
        if (Libc.shutdown(fd, Libc.SHUT_RD) != 0 || !SeqPacket.IsDrained(fd))
        {
            DeferredClose.ShutDownAndClose(fd);
            return Libc.ECONNREFUSED;
        }

        int bytes = SendBufferBytes;
        _ = Libc.setsockopt(fd, Libc.SOL_SOCKET, Libc.SO_SNDBUF, &bytes, sizeof(int));
        connection = new LinuxFd(fd);
        return 0;
    }

    /// <summary>The identity of the port <paramref name="path"/> leads to; none unless it is an <c>O_PATH</c> descriptor of a socket.</summary>
    public static PortIdentity Identity(int path)
    {
        Libc.Statx stat;
        if (Libc.statx(path, string.Empty, Libc.AT_EMPTY_PATH, Libc.STATX_BASIC_STATS, &stat) != 0
            || (stat.Mode & Libc.S_IFMT) != Libc.S_IFSOCK
            || (Libc.fcntl(path, Libc.F_GETFL, 0) & Libc.O_PATH) == 0)
        {
            return default;
        }

        return PortIdentity.Of(stat);
    }

    /// <summary>Whether <paramref name="fd"/> is a listening AF_UNIX SOCK_SEQPACKET socket bound to the socket file <paramref name="identity"/> names.</summary>
    public static bool IsListenerOf(int fd, PortIdentity identity)
    {
        int listening = 0;
        uint length = sizeof(int);
        return SeqPacket.IsPortSocket(fd)
            && Libc.getsockopt(fd, Libc.SOL_SOCKET, Libc.SO_ACCEPTCONN, &listening, &length) == 0
            && listening == 1
            && SocketDiag.BoundInode(fd, out ulong inode, out uint device)
            && inode == identity.Inode
            && device == (uint)(((identity.Device >> 32) << 20) | (identity.Device & 0xFFFFF)); // the kernel's dev_t: major << 20 | minor
    }
}
