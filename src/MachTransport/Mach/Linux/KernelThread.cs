using System.Collections.Concurrent;

namespace MachTransport.Mach.Linux;

/// <summary>
/// The emulated kernel's own thread: it watches descriptors (send ends with dead-name requests, bootstrap
/// listening sockets) with epoll and runs work posted to it, such as delivering notifications.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "One per process, alive until the process exits.")]
internal sealed class KernelThread
{
    private const ulong WakeKey = 0;

    private readonly object _lock = new();
    private readonly Dictionary<ulong, Action> _handlers = [];
    private readonly ConcurrentQueue<Action> _posted = new();
    private readonly LinuxFd _epoll;
    private readonly LinuxFd _wake;
    private ulong _nextKey;
    private Thread? _thread;

    public KernelThread()
    {
        _epoll = new LinuxFd(Libc.epoll_create1(Libc.EPOLL_CLOEXEC));
        _wake = SeqPacket.CreateEvent();
        _ = Epoll.Add(_epoll, _wake, Libc.EPOLLIN, WakeKey);
    }

    /// <summary>Runs <paramref name="handler"/> on the kernel thread whenever <paramref name="fd"/> reports <paramref name="events"/> (HUP and ERR always).</summary>
    public ulong Watch(LinuxFd fd, uint events, Action handler)
    {
        ulong key;
        lock (_lock)
        {
            key = ++_nextKey;
            _handlers.Add(key, handler);
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

        SeqPacket.Signal(_wake);
    }

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
            if (!Epoll.Wait(_epoll, -1, out ulong key, out _))
            {
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
                _handlers.TryGetValue(key, out handler);
            }

            handler?.Invoke();
        }
    }
}
