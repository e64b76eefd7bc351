using MachTransport.Mach.Abi;

namespace MachTransport.Mach.Linux;

/// <summary>
/// The name table (callers hold <c>_lock</c>): new names and entries, this space's connection to a port, and the release of
/// a name's rights (receive right destroyed or given away, port set destroyed, send side detached) down to freeing the name.
/// </summary>
internal sealed partial class LinuxKernel
{
    private uint NewName()
    {
        // Mach names are an index with a generation in the low byte; never 0 or MACH_PORT_DEAD.
        uint name;
        do
        {
            _nextNameIndex = (_nextNameIndex + 1) & 0x00FFFFFF;
            name = (_nextNameIndex << 8) | 0x03;
        }
        while (_nextNameIndex == 0 || _ports.ContainsKey(name) || _portSets.ContainsKey(name));

        return name;
    }

    private PortEntry NewPortEntry()
    {
        var entry = new PortEntry(NewName());
        _ports.Add(entry.Name, entry);
        return entry;
    }

    /// <summary>A send-once right to <paramref name="port"/> (sharing this space's connection), or null when no descriptor is free.</summary>
    private PortEntry? NewSendOnce(PortEntry port)
    {
        if (EnsureConnected(port, out _) is not { } connection)
        {
            return null;
        }

        int send, path;
        using (LinuxFd.Lease sendLease = connection.Acquire())
        using (LinuxFd.Lease pathLease = port.Path!.Acquire())
        {
            send = Libc.dup(sendLease.Number);
            path = Libc.dup(pathLease.Number);
        }

        if (send < 0 || path < 0)
        {
            _ = Libc.close(send);
            _ = Libc.close(path);
            return null;
        }

        PortEntry entry = NewPortEntry();
        entry.Send = new LinuxFd(send);
        entry.Path = new LinuxFd(path);
        entry.PortId = port.PortId;
        entry.IsSendOnce = true;
        return entry;
    }

    /// <summary>Gives <paramref name="entry"/> the port's <c>O_PATH</c> and indexes it by port identity.</summary>
    private void AttachPath(PortEntry entry, LinuxFd path)
    {
        entry.Path = path;
        using LinuxFd.Lease lease = path.Acquire();
        entry.PortId = PortSocket.Identity(lease.Number);
        _byPortId[entry.PortId] = entry;
    }

    /// <summary>
    /// This space's connection to the port of <paramref name="entry"/>, made now if there is none yet (caller holds _lock).
    /// Null on failure; <paramref name="error"/> is then ECONNREFUSED or ENOENT if the port is dead.
    /// </summary>
    private static LinuxFd? EnsureConnected(PortEntry entry, out int error)
    {
        error = 0;
        if (entry.Send is not null || entry.Path is null)
        {
            return entry.Send;
        }

        using LinuxFd.Lease lease = entry.Path.Acquire();
        error = PortSocket.Connect(lease.Number, out LinuxFd? connection);
        entry.Send = connection;
        return connection;
    }

    private static bool IsDeadPortError(int error) => error is Libc.ECONNREFUSED or Libc.ENOENT;

    /// <summary>Destroys the port: blocked receivers wake, and our own send rights to it become dead names.</summary>
    private void DestroyReceive(PortEntry entry)
    {
        ReleaseReceive(entry);
        if (entry.SendUrefs > 0)
        {
            MarkDead(entry);
        }

        ReleaseIfUnused(entry);
    }

    /// <summary>
    /// Gives the receive right up (destroyed, or moved into a message whose copy of the socket keeps the port alive).
    /// A checked-in service name goes with it.
    /// </summary>
    private void ReleaseReceive(PortEntry entry, bool moved = false)
    {
        LeaveSet(entry);
        if (entry.Service is not null)
        {
            _bootstrap.Unregister(entry.Service);
            entry.Service = null;
        }

        if (moved)
        {
            entry.Receive!.GiveAway();
        }
        else
        {
            entry.Receive!.Dispose();
        }

        entry.Receive = null;
        if (entry.WakeEvent is not null)
        {
            Poll.Wake(entry.WakeEvent);
        }
    }

    private static void LeaveSet(PortEntry entry)
    {
        if (entry.Set is { } set)
        {
            Epoll.Remove(set.Epoll, entry.Receive!.Epoll);
            set.Members.Remove(entry.Name);
            entry.Set = null;
        }
    }

    private KernReturn DestroyPortSet(uint name)
    {
        PortSetEntry set = _portSets[name];
        foreach (uint member in set.Members)
        {
            _ports[member].Set = null;
        }

        _portSets.Remove(name);
        Poll.Wake(set.WakeEvent);
        set.Epoll.Dispose();
        set.WakeEvent.Dispose();
        return KernReturn.Success;
    }

    /// <summary>Frees the name once it denotes no right.</summary>
    private void ReleaseIfUnused(PortEntry entry)
    {
        if (entry.Receive is null && entry.SendUrefs == 0 && !entry.IsSendOnce)
        {
            CancelDeadNameRequest(entry, sendPortDeleted: entry.DeadUrefs == 0);
            DetachSend(entry);
        }

        if (entry.IsUnused)
        {
            _ports.Remove(entry.Name);
            entry.WakeEvent?.Dispose();
        }
    }

    /// <summary>Closes the entry's connection and <c>O_PATH</c>: it denotes no right to the port any more.</summary>
    private void DetachSend(PortEntry entry)
    {
        StopMonitoring(entry);
        if (!entry.PortId.IsNone && _byPortId.TryGetValue(entry.PortId, out PortEntry? indexed) && indexed == entry)
        {
            _byPortId.Remove(entry.PortId);
        }

        DropRing(entry);
        entry.Send?.Dispose();
        entry.Send = null;
        entry.Path?.Dispose();
        entry.Path = null;
        entry.PortId = default;
    }
}
