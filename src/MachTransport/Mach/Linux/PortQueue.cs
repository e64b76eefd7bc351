namespace MachTransport.Mach.Linux;

/// <summary>
/// A receive right: the port's listening socket and one accepted connection per holder of a send right, all in one
/// epoll instance (the port's queue). Each holder sends on its own connection, so no holder can shut down, shrink
/// or otherwise break what another holder sends on. End-of-file on a connection only drops that connection.
/// Access is under the kernel's lock; descriptors are leased around syscalls.
/// </summary>
internal sealed class PortQueue : IDisposable
{
    /// <summary>Epoll key of the listener (connections count up from 1).</summary>
    public const ulong ListenerKey = 0;

    /// <summary>Holders one port accepts; a hostile holder connecting in a loop cannot exhaust the descriptor table.</summary>
    public const int MaxConnections = 1024;

    /// <summary>At most this many messages in a row come from the last connection before epoll picks (fairness, new holders).</summary>
    public const int MaxFastTakes = 16;

    private readonly Dictionary<ulong, LinuxFd> _connections = [];
    private ulong _nextKey;

    private PortQueue(LinuxFd listener, LinuxFd epoll)
    {
        Listener = listener;
        Epoll = epoll;
    }

    public LinuxFd Listener { get; }

    public LinuxFd Epoll { get; }

    public int ConnectionCount => _connections.Count;

    /// <summary>The connection a message last came from: tried first, without an epoll_wait, for a few messages in a row.</summary>
    public ulong LastKey { get; set; }

    /// <summary>Messages taken from <see cref="LastKey"/> in a row without asking epoll (which is fair to every holder).</summary>
    public int FastTakes { get; set; }

    public IEnumerable<LinuxFd> Connections => _connections.Values;

    /// <summary>A queue over <paramref name="listener"/> and already accepted <paramref name="connections"/>, in <paramref name="epoll"/> (all taken).</summary>
    public static PortQueue Create(LinuxFd listener, LinuxFd epoll, IEnumerable<LinuxFd> connections)
    {
        var queue = new PortQueue(listener, epoll);
        _ = Linux.Epoll.Add(queue.Epoll, listener, Libc.EPOLLIN, ListenerKey);
        foreach (LinuxFd connection in connections)
        {
            queue.Add(connection);
        }

        return queue;
    }

    public void Add(LinuxFd connection)
    {
        ulong key = ++_nextKey;
        _connections.Add(key, connection);
        _ = Linux.Epoll.Add(Epoll, connection, Libc.EPOLLIN, key);
    }

    /// <summary>The connection under <paramref name="key"/>, with a reference taken (the caller releases it), or null.</summary>
    public LinuxFd? Lease(ulong key)
    {
        if (!_connections.TryGetValue(key, out LinuxFd? connection))
        {
            return null;
        }

        bool added = false;
        connection.DangerousAddRef(ref added);
        return connection;
    }

    public void Drop(ulong key, LinuxFd connection)
    {
        if (_connections.Remove(key))
        {
            Linux.Epoll.Remove(Epoll, connection);
            connection.Dispose();
        }
    }

    /// <summary>The receive right went into a message: the sockets live on in it, so they are closed here but not shut down.</summary>
    public void GiveAway()
    {
        Listener.GiveAway();
        foreach (LinuxFd connection in _connections.Values)
        {
            connection.GiveAway();
        }

        Dispose();
    }

    public void Dispose()
    {
        foreach (LinuxFd connection in _connections.Values)
        {
            connection.Dispose();
        }

        _connections.Clear();
        Listener.Dispose();
        Epoll.Dispose();
    }
}
