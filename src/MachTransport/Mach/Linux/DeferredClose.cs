namespace MachTransport.Mach.Linux;

/// <summary>
/// Closes, on a thread of its own, what other processes chose: the descriptors of refused datagrams, and the sockets
/// they write into (whose queues may hold such descriptors). Closing the last reference to some files waits on locks
/// the sender can hold for as long as it likes: a pipe's release takes the pipe's lock, which a thread of the sender
/// sleeping in <c>splice</c> from an idle socket into that pipe holds. Closed on the receive thread, one such
/// descriptor stalled every port it serves. Here it stalls only this thread until the sender lets go (or exits);
/// the descriptors queued behind it stay open until then.
/// </summary>
internal static class DeferredClose
{
    private static readonly object s_lock = new(); // a monitor: the closing thread waits on it
    private static readonly Queue<int> s_queue = new();
    private static Thread? s_thread;
    private static int s_closing; // queued plus the one being closed

    /// <summary>Hands every descriptor in <paramref name="fds"/> to the closing thread and clears the list.</summary>
    public static void CloseAll(List<int> fds)
    {
        foreach (int fd in fds)
        {
            Close(fd);
        }

        fds.Clear();
    }

    /// <summary>
    /// Shuts a socket down now, so its peers see it closed (shutting down releases nothing queued), and hands it
    /// to the closing thread.
    /// </summary>
    public static void ShutDownAndClose(int fd)
    {
        _ = Libc.shutdown(fd, Libc.SHUT_RDWR);
        Close(fd);
    }

    /// <summary>Hands one descriptor to the closing thread.</summary>
    public static void Close(int fd)
    {
        lock (s_lock)
        {
            s_queue.Enqueue(fd);
            s_closing++;
            if (s_thread is null)
            {
                s_thread = new Thread(Run) { IsBackground = true, Name = "Mach deferred close" };
                s_thread.Start();
            }
            else
            {
                Monitor.PulseAll(s_lock);
            }
        }
    }

    /// <summary>Waits until every descriptor handed over so far is closed (tests check for leaks after this).</summary>
    public static bool WaitUntilClosed(TimeSpan timeout)
    {
        lock (s_lock)
        {
            long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
            while (s_closing > 0)
            {
                long left = deadline - Environment.TickCount64;
                if (left <= 0 || !Monitor.Wait(s_lock, TimeSpan.FromMilliseconds(left)))
                {
                    return s_closing == 0;
                }
            }

            return true;
        }
    }

    private static void Run()
    {
        while (true)
        {
            int fd;
            lock (s_lock)
            {
                while (s_queue.Count == 0)
                {
                    Monitor.Wait(s_lock);
                }

                fd = s_queue.Dequeue();
            }

            _ = Libc.close(fd);
            lock (s_lock)
            {
                s_closing--;
                Monitor.PulseAll(s_lock);
            }
        }
    }
}
