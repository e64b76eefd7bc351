using System.Runtime.InteropServices;

namespace MachTransport.Mach.Linux;

/// <summary>
/// epoll registrations keyed by a 64-bit value: add, remove, and take one ready key. <c>struct epoll_event</c> is packed
/// (12 bytes) on x86_64 and naturally aligned (16 bytes) elsewhere (include/uapi/linux/eventpoll.h, <c>EPOLL_PACKED</c>).
/// </summary>
internal static unsafe class Epoll
{
    public static readonly int EventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    private static readonly int s_dataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    /// <summary>Adds <paramref name="fd"/> with <paramref name="events"/> and a 64-bit key returned by Wait.</summary>
    public static int Add(LinuxFd epoll, LinuxFd fd, uint events, ulong key)
    {
        byte* ev = stackalloc byte[16];
        *(uint*)ev = events;
        *(ulong*)(ev + s_dataOffset) = key;
        using LinuxFd.Lease e = epoll.Acquire();
        using LinuxFd.Lease f = fd.Acquire();
        return Libc.epoll_ctl(e.Number, Libc.EPOLL_CTL_ADD, f.Number, ev) == 0 ? 0 : Libc.LastError;
    }

    public static void Remove(LinuxFd epoll, LinuxFd fd)
    {
        byte* ev = stackalloc byte[16];
        using LinuxFd.Lease e = epoll.Acquire();
        using LinuxFd.Lease f = fd.Acquire();
        _ = Libc.epoll_ctl(e.Number, Libc.EPOLL_CTL_DEL, f.Number, ev);
    }

    /// <summary>Waits for one ready registration; returns false on timeout.</summary>
    public static bool Wait(LinuxFd epoll, int timeoutMilliseconds, out ulong key, out uint events)
    {
        using LinuxFd.Lease e = epoll.Acquire();
        return Wait(e.Number, timeoutMilliseconds, out key, out events);
    }

    /// <summary><see cref="Wait(LinuxFd, int, out ulong, out uint)"/> on a descriptor the caller keeps open.</summary>
    public static bool Wait(int epoll, int timeoutMilliseconds, out ulong key, out uint events)
    {
        byte* ev = stackalloc byte[16];
        while (true)
        {
            int n = Libc.epoll_wait(epoll, ev, 1, timeoutMilliseconds);
            if (n == 1)
            {
                events = *(uint*)ev;
                key = *(ulong*)(ev + s_dataOffset);
                return true;
            }

            if (n == 0 || Libc.LastError != Libc.EINTR)
            {
                key = 0;
                events = 0;
                return false;
            }
        }
    }
}
