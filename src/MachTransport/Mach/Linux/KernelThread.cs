using System.Collections.Concurrent;

namespace MachTransport.Mach.Linux;

/// <summary>
/// The emulated kernel's own thread: it watches descriptors (connections with dead-name requests, bootstrap
/// listening sockets) with epoll and runs work posted to it, such as delivering notifications.
/// Watches are level-triggered, so a handler that cannot consume what woke it (a pending connection with the
/// descriptor table full) must refuse it with the reserve descriptor or pause the watch, never return as is.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "One per process, alive until the process exits.")]
internal sealed class KernelThread
{
    private const ulong WakeKey = 0;
    private const int PausedRetryMilliseconds = 100;

    private readonly object _lock = new();
    private readonly Dictionary<ulong, (LinuxFd Fd, uint Events, Action Handler)> _handlers = [];
    private readonly List<ulong> _paused = [];
    private readonly List<Action> _later = [];
    private long _retryAt;
    private readonly ConcurrentQueue<Action> _posted = new();
    private readonly LinuxFd _epoll;
    private readonly LinuxFd _wake;
    private ulong _nextKey;
    private Thread? _thread;

    // A descriptor held in reserve (kernel thread only): closed to make room for one accept at the descriptor limit.
    private int _reserve = OpenReserve();

    public KernelThread()
    {
        int epoll = Libc.epoll_create1(Libc.EPOLL_CLOEXEC);
        _epoll = new LinuxFd(epoll);
        _wake = Poll.CreateWakeEvent()!;
        if (epoll < 0 || _wake is null || Epoll.Add(_epoll, _wake, Libc.EPOLLIN, WakeKey) != 0)
        {
            throw new MachException("The Mach emulation could not create its epoll instance or eventfd (descriptor table full?).", 0);
        }
    }

    /// <summary>Runs <paramref name="handler"/> on the kernel thread whenever <paramref name="fd"/> reports <paramref name="events"/> (HUP and ERR always).</summary>
    public ulong Watch(LinuxFd fd, uint events, Action handler)
    {
        ulong key;
        lock (_lock)
        {
            key = ++_nextKey;
            _handlers.Add(key, (fd, events, handler));
            EnsureStarted();
        }

        _ = Epoll.Add(_epoll, fd, events, key);
        return key;
    }

    public void Unwatch(ulong key, LinuxFd fd)
    {
        lock (_lock)
        {
            _handlers.Remove(key);
        }

        Epoll.Remove(_epoll, fd);
    }

    /// <summary>Runs <paramref name="work"/> on the kernel thread, in posting order.</summary>
    public void Post(Action work)
    {
        _posted.Enqueue(work);
        lock (_lock)
        {
            EnsureStarted();
        }

        Poll.Wake(_wake);
    }

    /// <summary>
    /// On the kernel thread, with the descriptor table full (or no room above <see cref="DescriptorBudget.Reserve"/>):
    /// takes one pending connection off <paramref name="listener"/> through the reserve descriptor, answers it with
    /// <paramref name="answer"/> and closes it. False when the reserve is gone; the caller then pauses its watch. A
    /// connection that queued something cannot be closed at once (<see cref="DeferredClose"/>): it keeps the reserve's
    /// place, and the reserve is opened again only once there is room, so hostile callers spend one descriptor at most.
    /// </summary>
    public unsafe bool Refuse(int listener, ReadOnlySpan<byte> answer)
    {
        if (_reserve < 0 && (!DescriptorBudget.HasRoom(1) || (_reserve = OpenReserve()) < 0))
        {
            return false;
        }

        _ = Libc.close(_reserve);
        _reserve = -1;
        int connection = Libc.accept4(listener, null, null, Libc.SOCK_CLOEXEC | Libc.SOCK_NONBLOCK);
        if (connection < 0)
        {
            _reserve = OpenReserve();
            return false;
        }

        _ = SeqPacket.Send(connection, answer, []);
        if (!DeferredClose.ShutDownAndClose(connection))
        {
            return false;
        }

        _reserve = OpenReserve();
        return true;
    }

    /// <summary>On the kernel thread: stops watching <paramref name="key"/> for a while (its handler could not make progress), then watches it again.</summary>
    public void Pause(ulong key)
    {
        lock (_lock)
        {
            if (_handlers.TryGetValue(key, out (LinuxFd Fd, uint Events, Action Handler) watch) && !watch.Fd.IsClosed)
            {
                Epoll.Remove(_epoll, watch.Fd);
                _paused.Add(key);
                ScheduleRetry();
            }
        }
    }

    /// <summary>Runs <paramref name="work"/> on the kernel thread in about 100 ms (a back-off, as for a full descriptor table).</summary>
    public void Later(Action work)
    {
        lock (_lock)
        {
            _later.Add(work);
            ScheduleRetry();
            EnsureStarted();
        }

        Poll.Wake(_wake); // recompute the wait's timeout
    }

    private void ScheduleRetry()
    {
        if (_paused.Count + _later.Count == 1)
        {
            _retryAt = Environment.TickCount64 + PausedRetryMilliseconds;
        }
    }

    private static int OpenReserve() => Libc.open("/dev/null", Libc.O_CLOEXEC, 0);

    private void EnsureStarted()
    {
        if (_thread is null)
        {
            _thread = new Thread(Run) { IsBackground = true, Name = "Mach emulation kernel" };
            _thread.Start();
        }
    }

    private unsafe void Run()
    {
        while (true)
        {
            int timeout;
            lock (_lock)
            {
                timeout = _paused.Count + _later.Count > 0 ? (int)Math.Max(0, _retryAt - Environment.TickCount64) : -1;
            }

            if (timeout == 0 || !Epoll.Wait(_epoll, timeout, out ulong key, out _))
            {
                ResumePaused();
                continue;
            }

            if (key == WakeKey)
            {
                ulong count;
                using (LinuxFd.Lease lease = _wake.Acquire())
                {
                    _ = Libc.read(lease.Number, &count, sizeof(ulong));
                }

                while (_posted.TryDequeue(out Action? work))
                {
                    work();
                }

                continue;
            }

            Action? handler;
            lock (_lock)
            {
                handler = _handlers.TryGetValue(key, out (LinuxFd Fd, uint Events, Action Handler) watch) ? watch.Handler : null;
            }

            handler?.Invoke();
        }
    }

    private void ResumePaused()
    {
        Action[] later;
        lock (_lock)
        {
            foreach (ulong key in _paused)
            {
                if (_handlers.TryGetValue(key, out (LinuxFd Fd, uint Events, Action Handler) watch) && !watch.Fd.IsClosed)
                {
                    _ = Epoll.Add(_epoll, watch.Fd, watch.Events, key);
                }
            }

            _paused.Clear();
            later = [.. _later];
            _later.Clear();
        }

        foreach (Action work in later)
        {
            work();
        }
    }
}
