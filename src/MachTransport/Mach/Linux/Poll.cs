namespace MachTransport.Mach.Linux;

/// <summary>
/// Blocking waits on one descriptor with poll(2), and the eventfd another thread signals to cut such a wait short
/// (a receive whose port is destroyed, the kernel thread's new work).
/// </summary>
internal static unsafe class Poll
{
    /// <summary>Waits until <paramref name="fd"/> has <paramref name="events"/> or <paramref name="wake"/> (an event, or -1) is signalled.</summary>
    public static PollResult Wait(int fd, short events, int wake, int timeoutMilliseconds)
    {
        Libc.PollFd* polls = stackalloc Libc.PollFd[2];
        polls[0] = new Libc.PollFd { Fd = fd, Events = events };
        polls[1] = new Libc.PollFd { Fd = wake, Events = Libc.POLLIN };
        long deadline = timeoutMilliseconds < 0 ? long.MaxValue : Environment.TickCount64 + timeoutMilliseconds;
        while (true)
        {
            int remaining = timeoutMilliseconds < 0 ? -1 : (int)Math.Max(0, deadline - Environment.TickCount64);
            int n = Libc.poll(polls, wake >= 0 ? 2u : 1u, remaining);
            if (n > 0)
            {
                return wake >= 0 && polls[1].ReturnedEvents != 0 ? PollResult.Woken : PollResult.Ready;
            }

            if (n == 0)
            {
                return PollResult.TimedOut;
            }

            if (Libc.LastError != Libc.EINTR)
            {
                return PollResult.Ready; // the caller's next call on the descriptor meets the error itself
            }
        }
    }

    /// <summary>A non-blocking eventfd to pass as a wait's wake, or null when none can be had (descriptor table full).</summary>
    public static LinuxFd? CreateWakeEvent()
    {
        int fd = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        return fd < 0 ? null : new LinuxFd(fd);
    }

    /// <summary>Signals <paramref name="wakeEvent"/>: every wait on it returns <see cref="PollResult.Woken"/> until it is read.</summary>
    public static void Wake(LinuxFd wakeEvent)
    {
        ulong one = 1;
        using LinuxFd.Lease lease = wakeEvent.Acquire();
        _ = Libc.write(lease.Number, &one, sizeof(ulong));
    }
}
