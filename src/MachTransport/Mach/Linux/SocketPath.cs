using System.Text;

namespace MachTransport.Mach.Linux;

/// <summary>
/// <c>bind</c> and <c>connect</c> to a socket file by a path of any length. <c>sun_path</c> holds 107 bytes and a NUL;
/// a longer path is reached through a descriptor of its directory (<c>/proc/self/fd/N/name</c>), which the kernel
/// resolves like any other path, so a long registry or temporary directory works as a short one does.
/// </summary>
internal static unsafe class SocketPath
{
    /// <summary>The longest path <c>sun_path</c> holds (108 bytes with the NUL).</summary>
    public const int MaxBytes = 107;

    private const int ENAMETOOLONG = 36;

    /// <summary>Binds <paramref name="socket"/> to <paramref name="path"/>: 0 or an errno.</summary>
    public static int Bind(int socket, string path) => Reach(socket, path, bind: true);

    /// <summary>Connects <paramref name="socket"/> to the socket file <paramref name="path"/>: 0 or an errno.</summary>
    public static int Connect(int socket, string path) => Reach(socket, path, bind: false);

    /// <summary>
    /// Connects the blocking <paramref name="socket"/> to <paramref name="path"/>, waiting for room in the listener's
    /// backlog up to <paramref name="timeoutMilliseconds"/> (-1: as long as it takes; 0: not at all, for a non-blocking
    /// socket), then turns it non-blocking. Returns 0, EAGAIN when no room came in time, or another errno.
    /// </summary>
    public static int ConnectWithin(int socket, string path, int timeoutMilliseconds)
    {
        long deadline = timeoutMilliseconds < 0 ? long.MaxValue : Environment.TickCount64 + timeoutMilliseconds;
        while (true)
        {
            if (timeoutMilliseconds > 0)
            {
                long remaining = Math.Max(1, deadline - Environment.TickCount64);
                var limit = new Libc.TimeVal { Seconds = remaining / 1000, Microseconds = remaining % 1000 * 1000 };
                _ = Libc.setsockopt(socket, Libc.SOL_SOCKET, Libc.SO_SNDTIMEO, &limit, (uint)sizeof(Libc.TimeVal));
            }

            int error = Connect(socket, path);
            if (error == 0)
            {
                break;
            }

            if (error != Libc.EINTR || Environment.TickCount64 >= deadline)
            {
                return error == Libc.EINTR ? Libc.EAGAIN : error;
            }
        }

        return timeoutMilliseconds == 0 || Libc.fcntl(socket, Libc.F_SETFL, Libc.fcntl(socket, Libc.F_GETFL, 0) | Libc.O_NONBLOCK) == 0 ? 0 : Libc.LastError;
    }

    private static int Reach(int socket, string path, bool bind)
    {
        if (Encoding.UTF8.GetByteCount(path) <= MaxBytes)
        {
            return Call(socket, path, bind);
        }

        int directory = Libc.open(Path.GetDirectoryName(path) ?? ".", Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        if (directory < 0)
        {
            return Libc.LastError;
        }

        string viaDirectory = $"/proc/self/fd/{directory}/{Path.GetFileName(path)}";
        int error = Encoding.UTF8.GetByteCount(viaDirectory) <= MaxBytes ? Call(socket, viaDirectory, bind) : ENAMETOOLONG;
        _ = Libc.close(directory);
        return error;
    }

    private static int Call(int socket, string path, bool bind)
    {
        var address = new Libc.SockAddrUn { Family = Libc.AF_UNIX };
        int length = Encoding.UTF8.GetBytes(path, new Span<byte>(address.Path, MaxBytes));
        address.Path[length] = 0;
        int result = bind
            ? Libc.bind(socket, &address, (uint)sizeof(Libc.SockAddrUn))
            : Libc.connect(socket, &address, (uint)sizeof(Libc.SockAddrUn));
        return result == 0 ? 0 : Libc.LastError;
    }
}
