namespace MachTransport.Mach.Linux;

/// <summary>
/// A receive right: the port's listening socket and one accepted connection per holder of a send right, all in one
/// epoll instance (the port's queue). Each holder sends on its own connection, so no holder can shut down, shrink
/// or otherwise break what another holder sends on. End-of-file on a connection only drops that connection.
/// Connections are counted by the process that connected them (<see cref="HolderCounts"/>).
/// Access is under the kernel's lock; descriptors are leased around syscalls.
/// </summary>
internal sealed class PortQueue : IDisposable
{
    /// <summary>Epoll key of the listener (connections count up from 1).</summary>
    public const ulong ListenerKey = 0;

    /// <summary>
    /// Holders one port accepts. At this many the port is full: it stops accepting and its listener's backlog shrinks, so
    /// a new holder's connect finds no room (EAGAIN: its send times out, as to a full Mach queue) until a holder leaves.
    /// </summary>
    public const int MaxConnections = 1024;

    /// <summary>At most this many messages in a row come from the last connection before epoll picks (fairness, new holders).</summary>
    public const int MaxFastTakes = 16;

    private readonly Dictionary<ulong, (LinuxFd Connection, int Pid)> _connections = [];
    private readonly Dictionary<int, int> _byPid = [];
    private readonly Dictionary<ulong, OolReceiveRing> _rings = [];
    private readonly HolderCounts _counts;
    private ulong _nextKey;

    private PortQueue(LinuxFd listener, LinuxFd epoll, HolderCounts counts)
    {
        Listener = listener;
        Epoll = epoll;
        _counts = counts;
    }

    public LinuxFd Listener { get; }

    public LinuxFd Epoll { get; }

    public int ConnectionCount => _connections.Count;

    /// <summary>The port holds <see cref="MaxConnections"/>: its listener is out of the epoll set and its backlog shrunk.</summary>
    public bool IsFull { get; private set; }

    /// <summary>The connection a message last came from: tried first, without an epoll_wait, for a few messages in a row.</summary>
    public ulong LastKey { get; set; }

    /// <summary>Messages taken from <see cref="LastKey"/> in a row without asking epoll (which is fair to every holder).</summary>
    public int FastTakes { get; set; }

    /// <summary>
    /// A queue over <paramref name="listener"/> and already accepted <paramref name="connections"/>, in
    /// <paramref name="epoll"/> (all taken); <paramref name="rings"/>, if any, are the rings the first connections brought, in order.
    /// </summary>
    public static PortQueue Create(LinuxFd listener, LinuxFd epoll, HolderCounts counts, IReadOnlyList<LinuxFd> connections, IReadOnlyList<OolReceiveRing?>? rings = null)
    {
        var queue = new PortQueue(listener, epoll, counts);
        _ = Linux.Epoll.Add(queue.Epoll, listener, Libc.EPOLLIN, ListenerKey);
        for (int i = 0; i < connections.Count; i++)
        {
            using (LinuxFd.Lease lease = connections[i].Acquire())
            {
                queue.Add(connections[i], SeqPacket.PeerPid(lease.Number));
            }

            if (rings is not null && i < rings.Count && rings[i] is OolReceiveRing ring)
            {
                queue._rings.Add(queue._nextKey, ring);
                ring.TellSender();
            }
        }

        return queue;
    }

    /// <summary>The memfds of every ring the holders brought, out of their parks (the caller closes them).</summary>
    public void TakeRingMemfds(List<LinuxFd> memfds)
    {
        foreach (OolReceiveRing ring in _rings.Values)
        {
            if (ring.TakeMemfd() is LinuxFd memfd)
            {
                memfds.Add(memfd);
            }
        }
    }

    /// <summary>
    /// What a moving receive right carries of its holders (caller holds the kernel's lock): every connection, those whose
    /// rings travel with them first, and those rings' memfds out of their parks, in the same order (the caller closes them).
    /// </summary>
    public void CollectForMove(List<LinuxFd> connections, List<LinuxFd> rings)
    {
        var without = new List<LinuxFd>();
        foreach ((ulong key, (LinuxFd connection, _)) in _connections)
        {
            if (_rings.TryGetValue(key, out OolReceiveRing? ring) && ring.TakeMemfd() is LinuxFd memfd)
            {
                connections.Add(connection);
                rings.Add(memfd);
            }
            else
            {
                without.Add(connection);
            }
        }

        connections.AddRange(without);
    }

    /// <summary>
    /// Whether a holder <paramref name="pid"/> that just connected may stay: below its bound in this port (after its
    /// connections that reached end-of-file are dropped) and in the whole space.
    /// </summary>
    public bool Admits(int pid)
    {
        if (!HolderCounts.IsCounted(pid))
        {
            return true;
        }

        if (_byPid.GetValueOrDefault(pid) >= HolderCounts.PerPortPerProcess)
        {
            DropEnded(pid);
        }

        return _byPid.GetValueOrDefault(pid) < HolderCounts.PerPortPerProcess && !_counts.IsFull(pid);
    }

    public void Add(LinuxFd connection, int pid)
    {
        ulong key = ++_nextKey;
        _connections.Add(key, (connection, pid));
        _byPid[pid] = _byPid.GetValueOrDefault(pid) + 1;
        _counts.Add(pid);
        _ = Linux.Epoll.Add(Epoll, connection, Libc.EPOLLIN, key);
        if (_connections.Count >= MaxConnections && !IsFull)
        {
            IsFull = true;
            Linux.Epoll.Remove(Epoll, Listener);
            SetBacklog(PortSocket.FullBacklog);
        }
    }

    /// <summary>The connection under <paramref name="key"/>, with a reference taken (the caller releases it), or null.</summary>
    public LinuxFd? Lease(ulong key)
    {
        if (!_connections.TryGetValue(key, out (LinuxFd Connection, int Pid) held))
        {
            return null;
        }

        bool added = false;
        held.Connection.DangerousAddRef(ref added);
        return held.Connection;
    }

    /// <summary>The out-of-line ring the holder on <paramref name="key"/> brought, with a reference taken (the caller releases it), or null.</summary>
    public OolReceiveRing? LeaseRing(ulong key)
    {
        if (!_rings.TryGetValue(key, out OolReceiveRing? ring))
        {
            return null;
        }

        bool added = false;
        ring.DangerousAddRef(ref added);
        return ring;
    }

    /// <summary>
    /// Keeps <paramref name="ring"/> as the ring of the connection under <paramref name="key"/> (one per connection, so
    /// it is accounted to that holder); false if the connection has one already or is gone (the caller disposes it).
    /// </summary>
    public bool TryAdoptRing(ulong key, OolReceiveRing ring) => _connections.ContainsKey(key) && _rings.TryAdd(key, ring);

    public void Drop(ulong key, LinuxFd connection)
    {
        if (_rings.Remove(key, out OolReceiveRing? ring))
        {
            ring.Dispose();
        }

        if (_connections.Remove(key, out (LinuxFd Connection, int Pid) held))
        {
            Forget(held.Pid);
            Linux.Epoll.Remove(Epoll, connection);
            connection.Dispose();
        }

        if (IsFull && _connections.Count < MaxConnections)
        {
            IsFull = false;
            SetBacklog(PortSocket.Backlog);
            _ = Linux.Epoll.Add(Epoll, Listener, Libc.EPOLLIN, ListenerKey);
        }
    }

    /// <summary>The receive right went into a message: the sockets live on in it, so they are closed here but not shut down.</summary>
    public void GiveAway()
    {
        if (IsFull)
        {
            SetBacklog(PortSocket.Backlog); // its next owner starts with room
        }

        DisposeRings(); // its next owner maps each holder's ring again from the next message that names it
        Listener.GiveAway();
        foreach ((LinuxFd connection, _) in _connections.Values)
        {
            connection.GiveAway();
        }

        Dispose();
    }

    public void Dispose()
    {
        DisposeRings();
        foreach ((LinuxFd connection, int pid) in _connections.Values)
        {
            _counts.Remove(pid);
            connection.Dispose();
        }

        _connections.Clear();
        _byPid.Clear();
        Listener.Dispose();
        Epoll.Dispose();
    }

    /// <summary>Drops the connections of <paramref name="pid"/> its holder already closed, with nothing left to read.</summary>
    private void DropEnded(int pid)
    {
        var ended = new List<(ulong Key, LinuxFd Connection)>();
        foreach ((ulong key, (LinuxFd connection, int owner)) in _connections)
        {
            if (owner == pid && HasEnded(connection))
            {
                ended.Add((key, connection));
            }
        }

        foreach ((ulong key, LinuxFd connection) in ended)
        {
            Drop(key, connection);
        }
    }

    private static unsafe bool HasEnded(LinuxFd connection)
    {
        using LinuxFd.Lease lease = connection.Acquire();
        var poll = new Libc.PollFd { Fd = lease.Number, Events = Libc.POLLIN };
        return Libc.poll(&poll, 1, 0) == 1 && (poll.ReturnedEvents & Libc.POLLHUP) != 0 && SeqPacket.IsDrained(lease.Number);
    }

    private void DisposeRings()
    {
        foreach (OolReceiveRing ring in _rings.Values)
        {
            ring.Dispose();
        }

        _rings.Clear();
    }

    private void Forget(int pid)
    {
        _counts.Remove(pid);
        if (--_byPid[pid] == 0)
        {
            _byPid.Remove(pid);
        }
    }

    private void SetBacklog(int backlog)
    {
        using LinuxFd.Lease lease = Listener.Acquire();
        _ = Libc.listen(lease.Number, backlog);
    }
}
