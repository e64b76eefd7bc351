namespace MachTransport.Mach.Linux;

/// <summary>
/// Closes the descriptors of refused datagrams on a thread of its own. A sender chooses what it attaches, and
/// closing the last reference to some files waits on locks the sender can hold for as long as it likes: a pipe's
/// release takes the pipe's lock, which a thread of the sender sleeping in <c>splice</c> from an idle socket into
/// that pipe holds (a socket whose queue carries such a pipe has the same effect). Closed on the receive thread,
/// one such descriptor stalled every port it serves. Here it stalls only this thread until the sender lets go
/// (or exits); the descriptors queued behind it stay open until then.
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
        if (fds.Count == 0)
        {
            return;
        }

        lock (s_lock)
        {
            foreach (int fd in fds)
            {
                s_queue.Enqueue(fd);
            }

            s_closing += fds.Count;
            if (s_thread is null)
            {
                s_thread = new Thread(Run) { IsBackground = true, Name = "Mach refused-descriptor closer" };
                s_thread.Start();
            }
            else
            {
                Monitor.PulseAll(s_lock);
            }
        }

        fds.Clear();
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
