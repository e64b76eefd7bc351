namespace MachTransport.Mach.Linux;

/// <summary>
/// A port's queue seen from the receiver: which holder's connection has the next message, accepting new holders as they
/// connect (within the per-process and per-port bounds), and dropping a holder's connection at end-of-file.
/// </summary>
internal sealed partial class LinuxKernel
{
    /// <summary>
    /// A holder's connection with a message (or end-of-file) pending, with a reference taken; null when there is none.
    /// New holders waiting on the listener are accepted on the way. <paramref name="queue"/> is null when the receive right
    /// is gone. With <paramref name="fast"/>, the connection of the last message comes first, unasked (it may be empty).
    /// </summary>
    private LinuxFd? NextReadyConnection(PortEntry entry, bool fast, out PortQueue? queue, out ulong key)
    {
        lock (_lock)
        {
            queue = entry.Receive;
            key = 0;
            if (queue is null)
            {
                return null;
            }

            if (fast && queue.FastTakes < PortQueue.MaxFastTakes && queue.Lease(queue.LastKey) is { } last)
            {
                queue.FastTakes++;
                key = queue.LastKey;
                return last;
            }

            bool added = false;
            queue.Epoll.DangerousAddRef(ref added);
        }

        try
        {
            while (Epoll.Wait(queue.Epoll.Number, 0, out key, out _))
            {
                lock (_lock)
                {
                    if (entry.Receive != queue)
                    {
                        return null;
                    }

                    if (key == PortQueue.ListenerKey)
                    {
                        AcceptHolders(entry, queue);
                    }
                    else if (queue.Lease(key) is { } connection)
                    {
                        queue.LastKey = key;
                        queue.FastTakes = 0;
                        return connection;
                    }
                }
            }

            return null;
        }
        finally
        {
            queue.Epoll.DangerousRelease();
        }
    }

    /// <summary>
    /// Accepts every holder waiting on the port's listener (caller holds _lock). A holder whose process is past its
    /// bounds (<see cref="HolderCounts"/>) is turned away: it sees the port die. A full port stops accepting
    /// (<see cref="PortQueue.MaxConnections"/>); when accepting would cut into <see cref="DescriptorBudget.Reserve"/> or
    /// fails (descriptor table full) the listener rests 100 ms.
    /// </summary>
    private unsafe void AcceptHolders(PortEntry entry, PortQueue queue)
    {
        using LinuxFd.Lease listener = queue.Listener.Acquire();
        while (!queue.IsFull)
        {
            bool room = DescriptorBudget.HasRoom(1);
            int fd = room ? Libc.accept4(listener.Number, null, null, Libc.SOCK_CLOEXEC | Libc.SOCK_NONBLOCK) : -1;
            if (fd < 0)
            {
                if (!room || Libc.LastError is not (Libc.EAGAIN or Libc.EINTR))
                {
                    // No room above the reserve, EMFILE and the like: the pending holder would keep the listener ready; rest it instead of spinning.
                    Epoll.Remove(queue.Epoll, queue.Listener);
                    _kernelThread.Later(() => RearmListener(entry, queue));
                }

                return;
            }

            int pid = SeqPacket.PeerPid(fd);
            if (!queue.Admits(pid))
            {
                DeferredClose.ShutDownAndClose(fd);
                continue;
            }

            SeqPacket.EnablePassCredentials(fd);
            queue.Add(LinuxFd.PeerWritable(fd), pid);
        }
    }

    private void RearmListener(PortEntry entry, PortQueue queue)
    {
        lock (_lock)
        {
            if (entry.Receive == queue && !queue.IsFull)
            {
                _ = Epoll.Add(queue.Epoll, queue.Listener, Libc.EPOLLIN, PortQueue.ListenerKey);
            }
        }
    }

    /// <summary>Drops a holder's connection that reached end-of-file or failed: that holder gave up its rights (or broke its own socket).</summary>
    private void DropConnection(PortEntry entry, PortQueue queue, ulong key, LinuxFd connection)
    {
        lock (_lock)
        {
            if (entry.Receive == queue)
            {
                queue.Drop(key, connection);
            }
        }
    }
}
