namespace MachTransport.Mach.Linux;

/// <summary>
/// Closes, on threads of its own, what other processes chose: the descriptors of refused datagrams, and the sockets
/// they write into (whose queues may hold such descriptors). Closing the last reference to some files waits on locks
/// the sender can hold for as long as it likes: a pipe's release takes the pipe's lock, which a thread of the sender
/// sleeping in <c>splice</c> from an idle socket into that pipe holds. Closed on the receive thread, one such
/// descriptor stalled every port it serves; behind a single closing thread, it kept every later descriptor open
/// until the table was full.
/// One thread closes in order; a spare takes over the queue once every closing thread has waited in one close for
/// <see cref="HeldUpMilliseconds"/>, up to <see cref="MaxThreads"/> (each held-up close costs its sender a thread
/// sleeping on the lock). Beyond that the queue grows, so what is pending is counted per sender: the receive path
/// stops reading descriptors from a sender past <see cref="DescriptorBudget.PendingClosesPerSender"/>.
/// </summary>
internal static class DeferredClose
{
    /// <summary>Closing threads at most: the held-up closes a process must arrange before anything queues behind them.</summary>
    public const int MaxThreads = 16;

    /// <summary>A close this long in progress is held up (one normally takes microseconds).</summary>
    private const int HeldUpMilliseconds = 20;

    /// <summary>An idle spare beyond the first exits after this long.</summary>
    private const int IdleExitMilliseconds = 30_000;

    /// <summary>The owner of a descriptor nobody in particular sent (a port's listener, a destroyed port's connections).</summary>
    public const int NoOwner = 0;

    private static readonly object s_lock = new(); // a monitor: idle threads wait on it
    private static readonly Queue<(int Fd, int Owner)> s_queue = new();
    private static readonly Dictionary<int, int> s_pendingByOwner = [];
    private static readonly List<long> s_closingSince = []; // when each busy thread's close began
    private static int s_threads;
    private static int s_idle;
    private static volatile int s_pending; // queued plus being closed

    /// <summary>Descriptors handed over and not yet closed.</summary>
    public static int Pending => s_pending;

    /// <summary>Descriptors <paramref name="owner"/> sent that are handed over and not yet closed.</summary>
    public static int PendingOf(int owner)
    {
        lock (s_lock)
        {
            return s_pendingByOwner.GetValueOrDefault(owner);
        }
    }

    /// <summary>Hands every descriptor in <paramref name="fds"/>, sent by process <paramref name="owner"/>, to the closing threads and clears the list.</summary>
    public static void CloseAll(List<int> fds, int owner)
    {
        if (fds.Count == 0)
        {
            return;
        }

        lock (s_lock)
        {
            foreach (int fd in fds)
            {
                EnqueueLocked(fd, owner);
            }
        }

        fds.Clear();
    }

    /// <summary>
    /// Shuts a socket down, so its peers see it closed and can queue nothing more (shutting down releases nothing
    /// queued). A socket with nothing queued is closed at once (nothing in it can hold the close up: look-ups, holders
    /// that left), and true returned; any other is handed to the closing threads.
    /// </summary>
    public static bool ShutDownAndClose(int fd)
    {
        _ = Libc.shutdown(fd, Libc.SHUT_RDWR);
        if (SeqPacket.IsDrained(fd))
        {
            _ = Libc.close(fd);
            return true;
        }

        Close(fd);
        return false;
    }

    /// <summary>Hands one descriptor to the closing threads.</summary>
    public static void Close(int fd)
    {
        lock (s_lock)
        {
            EnqueueLocked(fd, NoOwner);
        }
    }

    /// <summary>Waits until every descriptor handed over so far is closed (tests check for leaks after this).</summary>
    public static bool WaitUntilClosed(TimeSpan timeout)
    {
        lock (s_lock)
        {
            long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
            while (s_pending > 0)
            {
                long left = deadline - Environment.TickCount64;
                if (left <= 0 || !Monitor.Wait(s_lock, TimeSpan.FromMilliseconds(left)))
                {
                    return s_pending == 0;
                }
            }

            return true;
        }
    }

    private static void EnqueueLocked(int fd, int owner)
    {
        s_queue.Enqueue((fd, owner));
        s_pendingByOwner[owner] = s_pendingByOwner.GetValueOrDefault(owner) + 1;
        s_pending++;
        if (s_threads == 0)
        {
            StartThreadLocked();
        }
        else
        {
            Monitor.PulseAll(s_lock);
        }
    }

    private static void StartThreadLocked()
    {
        s_threads++;
        new Thread(Run) { IsBackground = true, Name = "Mach deferred close" }.Start();
    }

    private static void Run()
    {
        while (Take() is (int fd, int owner, long since))
        {
            _ = Libc.close(fd);
            lock (s_lock)
            {
                _ = s_closingSince.Remove(since);
                s_pending--;
                if (--s_pendingByOwner[owner] == 0)
                {
                    _ = s_pendingByOwner.Remove(owner);
                }

                Monitor.PulseAll(s_lock);
            }
        }
    }

    /// <summary>The next descriptor this thread closes and when it began, or null when it exits (an idle spare beyond the first).</summary>
    private static (int Fd, int Owner, long Since)? Take()
    {
        lock (s_lock)
        {
            s_idle++;
            while (true)
            {
                long now = Environment.TickCount64;
                long youngest = now - HeldUpMilliseconds;
                foreach (long since in s_closingSince)
                {
                    youngest = Math.Max(youngest, since);
                }

                if (s_queue.Count > 0 && now - youngest >= HeldUpMilliseconds)
                {
                    // Nobody is closing, or every close in progress is held up: this thread goes on with the queue.
                    s_idle--;
                    s_closingSince.Add(now);
                    if (s_idle == 0 && s_threads < MaxThreads)
                    {
                        StartThreadLocked(); // the spare that takes over should this close be held up too
                    }

                    (int fd, int owner) = s_queue.Dequeue();
                    return (fd, owner, now);
                }

                int wait = s_queue.Count > 0 ? (int)(youngest + HeldUpMilliseconds - now) : IdleExitMilliseconds;
                if (!Monitor.Wait(s_lock, wait) && s_queue.Count == 0 && s_idle > 1)
                {
                    s_idle--;
                    s_threads--;
                    return null;
                }
            }
        }
    }
}
