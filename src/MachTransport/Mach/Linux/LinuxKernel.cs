using MachTransport.Mach.Abi;

namespace MachTransport.Mach.Linux;

/// <summary>
/// Mach IPC emulated in user space for Linux. It plays the kernel's part for this process: an IPC space
/// (names → rights) over SOCK_SEQPACKET sockets (a listener per port, a connection per holder), copy-in of rights
/// and out-of-line memory on send, copy-out with names, mapped memory and a trailer on receive, dead-name
/// notifications and a bootstrap namespace. See docs/linux-emulation.md for the mapping and its limits.
/// </summary>
internal sealed partial class LinuxKernel : IMachKernel
{
    private readonly object _lock = new();
    private readonly Dictionary<uint, PortEntry> _ports = [];
    private readonly Dictionary<uint, PortSetEntry> _portSets = [];
    private readonly Dictionary<PortIdentity, PortEntry> _byPortId = [];
    private readonly LinuxBootstrap _bootstrap;
    private readonly ReceivedRegionPool _receivedRegions;
    private uint _nextNameIndex;

    private LinuxKernel()
    {
        PageSize = Environment.SystemPageSize;
        _receivedRegions = new ReceivedRegionPool(PageSize);
        _kernelThread = new KernelThread();
        _bootstrap = new LinuxBootstrap(this, _kernelThread);
    }

    public static LinuxKernel Instance { get; } = new();

    public string Name => "linux";

    public int PageSize { get; }

    /// <summary>Names in use (ports and port sets): tests compare it before and after to find leaked rights.</summary>
    public int NameCount
    {
        get
        {
            lock (_lock)
            {
                return _ports.Count + _portSets.Count;
            }
        }
    }

    public KernReturn AllocatePort(MachPortRight right, out uint name)
    {
        name = MachPort.Null;
        switch (right)
        {
            case MachPortRight.Receive:
                if (PortSocket.Create(out LinuxFd listener, out LinuxFd path) != 0)
                {
                    return KernReturn.ResourceShortage;
                }

                int queueEpoll = Libc.epoll_create1(Libc.EPOLL_CLOEXEC);
                if (queueEpoll < 0 || PortSocket.CreateOwnConnection(out LinuxFd ownQueueEnd, out LinuxFd ownSend) != 0)
                {
                    _ = Libc.close(queueEpoll);
                    listener.Dispose();
                    path.Dispose();
                    return KernReturn.ResourceShortage;
                }

                lock (_lock)
                {
                    PortEntry entry = NewPortEntry();
                    entry.Receive = PortQueue.Create(listener, new LinuxFd(queueEpoll), [ownQueueEnd]);
                    entry.Send = ownSend;
                    AttachPath(entry, path);
                    name = entry.Name;
                }

                return KernReturn.Success;

            case MachPortRight.PortSet:
                int epoll = Libc.epoll_create1(Libc.EPOLL_CLOEXEC);
                if (epoll < 0)
                {
                    return KernReturn.ResourceShortage;
                }

                var epollFd = new LinuxFd(epoll);
                LinuxFd? wake = SeqPacket.CreateEvent();
                if (wake is null)
                {
                    epollFd.Dispose();
                    return KernReturn.ResourceShortage;
                }

                lock (_lock)
                {
                    var set = new PortSetEntry(NewName(), epollFd, wake);
                    _portSets.Add(set.Name, set);
                    name = set.Name;
                }

                return KernReturn.Success;

            default:
                return KernReturn.InvalidValue;
        }
    }

    public KernReturn InsertRight(uint name, uint poly, MachMsgTypeName polyPoly)
    {
        lock (_lock)
        {
            if (!_ports.TryGetValue(name, out PortEntry? entry) || name != poly)
            {
                return _ports.ContainsKey(name) ? KernReturn.InvalidValue : KernReturn.InvalidName;
            }

            switch (polyPoly)
            {
                case MachMsgTypeName.MakeSend when entry.Receive is not null:
                case MachMsgTypeName.CopySend when entry.SendUrefs > 0:
                    entry.SendUrefs++;
                    return KernReturn.Success;
                default:
                    return KernReturn.InvalidRight;
            }
        }
    }

    public KernReturn ExtractRight(uint name, MachMsgTypeName msgtName, out uint poly, out MachMsgTypeName polyPoly)
    {
        poly = MachPort.Null;
        polyPoly = MachMsgTypeName.None;
        lock (_lock)
        {
            if (!_ports.TryGetValue(name, out PortEntry? entry))
            {
                return KernReturn.InvalidName;
            }

            switch (msgtName)
            {
                case MachMsgTypeName.MakeSendOnce when entry.Receive is not null:
                    if (NewSendOnce(entry) is not { } once)
                    {
                        return KernReturn.ResourceShortage;
                    }

                    poly = once.Name;
                    polyPoly = MachMsgTypeName.PortSendOnce;
                    return KernReturn.Success;
                case MachMsgTypeName.MakeSend when entry.Receive is not null:
                case MachMsgTypeName.CopySend when entry.SendUrefs > 0:
                    entry.SendUrefs++;
                    poly = name;
                    polyPoly = MachMsgTypeName.PortSend;
                    return KernReturn.Success;
                default:
                    return KernReturn.InvalidRight;
            }
        }
    }

    public KernReturn Deallocate(uint name)
    {
        lock (_lock)
        {
            if (_portSets.ContainsKey(name))
            {
                return DestroyPortSet(name);
            }

            if (!_ports.TryGetValue(name, out PortEntry? entry))
            {
                return KernReturn.InvalidName;
            }

            if (entry.IsSendOnce)
            {
                entry.IsSendOnce = false;
            }
            else if (entry.SendUrefs > 0)
            {
                entry.SendUrefs--;
            }
            else if (entry.DeadUrefs > 0)
            {
                entry.DeadUrefs--;
            }
            else
            {
                return KernReturn.InvalidRight;
            }

            ReleaseIfUnused(entry);
            return KernReturn.Success;
        }
    }

    public KernReturn ModRefs(uint name, MachPortRight right, int delta)
    {
        lock (_lock)
        {
            if (right == MachPortRight.PortSet)
            {
                return !_portSets.ContainsKey(name) ? KernReturn.InvalidName
                    : delta == 0 ? KernReturn.Success
                    : delta == -1 ? DestroyPortSet(name)
                    : KernReturn.InvalidValue;
            }

            if (!_ports.TryGetValue(name, out PortEntry? entry))
            {
                return KernReturn.InvalidName;
            }

            switch (right)
            {
                case MachPortRight.Receive:
                    if (entry.Receive is null)
                    {
                        return KernReturn.InvalidRight;
                    }

                    if (delta is < -1 or > 0)
                    {
                        return KernReturn.InvalidValue;
                    }

                    if (delta == -1)
                    {
                        DestroyReceive(entry);
                    }

                    return KernReturn.Success;

                case MachPortRight.Send:
                    if (entry.SendUrefs == 0 || (long)entry.SendUrefs + delta < 0 || (long)entry.SendUrefs + delta > ushort.MaxValue)
                    {
                        return entry.SendUrefs == 0 ? KernReturn.InvalidRight : KernReturn.InvalidValue;
                    }

                    entry.SendUrefs = (uint)(entry.SendUrefs + delta);
                    ReleaseIfUnused(entry);
                    return KernReturn.Success;

                case MachPortRight.SendOnce:
                    if (!entry.IsSendOnce || delta is < -1 or > 0)
                    {
                        return entry.IsSendOnce ? KernReturn.InvalidValue : KernReturn.InvalidRight;
                    }

                    entry.IsSendOnce = delta == 0;
                    ReleaseIfUnused(entry);
                    return KernReturn.Success;

                case MachPortRight.DeadName:
                    if (entry.DeadUrefs == 0 || (long)entry.DeadUrefs + delta < 0)
                    {
                        return entry.DeadUrefs == 0 ? KernReturn.InvalidRight : KernReturn.InvalidValue;
                    }

                    entry.DeadUrefs = (uint)(entry.DeadUrefs + delta);
                    ReleaseIfUnused(entry);
                    return KernReturn.Success;

                default:
                    return KernReturn.InvalidValue;
            }
        }
    }

    public KernReturn GetRefs(uint name, MachPortRight right, out uint refs)
    {
        refs = 0;
        lock (_lock)
        {
            if (right == MachPortRight.PortSet)
            {
                refs = _portSets.ContainsKey(name) ? 1u : 0u;
                return _portSets.ContainsKey(name) || _ports.ContainsKey(name) ? KernReturn.Success : KernReturn.InvalidName;
            }

            if (!_ports.TryGetValue(name, out PortEntry? entry))
            {
                return _portSets.ContainsKey(name) ? KernReturn.Success : KernReturn.InvalidName;
            }

            refs = right switch
            {
                MachPortRight.Receive => entry.Receive is null ? 0u : 1u,
                MachPortRight.Send => entry.SendUrefs,
                MachPortRight.SendOnce => entry.IsSendOnce ? 1u : 0u,
                MachPortRight.DeadName => entry.DeadUrefs,
                _ => 0,
            };
            return right <= MachPortRight.DeadName ? KernReturn.Success : KernReturn.InvalidValue;
        }
    }

    public KernReturn GetPortType(uint name, out MachPortType type)
    {
        lock (_lock)
        {
            if (_portSets.ContainsKey(name))
            {
                type = MachPortType.PortSet;
                return KernReturn.Success;
            }

            type = _ports.TryGetValue(name, out PortEntry? entry) ? entry.Type : MachPortType.None;
            return entry is null ? KernReturn.InvalidName : KernReturn.Success;
        }
    }

    public KernReturn InsertMember(uint name, uint portSet)
    {
        lock (_lock)
        {
            if (!_portSets.TryGetValue(portSet, out PortSetEntry? set) || !_ports.TryGetValue(name, out PortEntry? entry))
            {
                return KernReturn.InvalidName;
            }

            if (entry.Receive is null)
            {
                return KernReturn.InvalidRight;
            }

            if (entry.Set is not null)
            {
                return KernReturn.AlreadyInSet;
            }

            if (Epoll.Add(set.Epoll, entry.Receive.Epoll, Libc.EPOLLIN, name) != 0)
            {
                return KernReturn.ResourceShortage;
            }

            entry.Set = set;
            set.Members.Add(name);
            return KernReturn.Success;
        }
    }

    public KernReturn ExtractMember(uint name, uint portSet)
    {
        lock (_lock)
        {
            if (!_portSets.TryGetValue(portSet, out PortSetEntry? set) || !_ports.TryGetValue(name, out PortEntry? entry))
            {
                return KernReturn.InvalidName;
            }

            if (entry.Set != set)
            {
                return KernReturn.NotInSet;
            }

            LeaveSet(entry);
            return KernReturn.Success;
        }
    }

    public KernReturn SetQueueLimit(uint name, uint queueLimit)
    {
        lock (_lock)
        {
            if (!_ports.TryGetValue(name, out PortEntry? entry))
            {
                return KernReturn.InvalidName;
            }

            if (entry.Receive is null)
            {
                return KernReturn.InvalidRight;
            }

            if (queueLimit > MachPort.QueueLimitMax)
            {
                return KernReturn.InvalidValue;
            }

            entry.QueueLimit = queueLimit;
            return KernReturn.Success;
        }
    }

    public KernReturn GetQueueLimit(uint name, out uint queueLimit)
    {
        lock (_lock)
        {
            queueLimit = 0;
            if (!_ports.TryGetValue(name, out PortEntry? entry))
            {
                return KernReturn.InvalidName;
            }

            if (entry.Receive is null)
            {
                return KernReturn.InvalidRight;
            }

            queueLimit = entry.QueueLimit;
            return KernReturn.Success;
        }
    }

    public BootstrapStatus BootstrapCheckIn(string serviceName, out uint receiveRight) => _bootstrap.CheckIn(serviceName, out receiveRight);

    public BootstrapStatus BootstrapLookUp(string serviceName, out uint sendRight) => _bootstrap.LookUp(serviceName, out sendRight);

    /// <summary>
    /// A descriptor of the <c>O_PATH</c> of the port <paramref name="name"/> names (what the bootstrap listener hands out);
    /// invalid when none is free or the name no longer names a port (another thread may release it meanwhile).
    /// </summary>
    internal LinuxFd DuplicatePath(uint name)
    {
        lock (_lock)
        {
            if (!_ports.TryGetValue(name, out PortEntry? entry) || entry.Path is null)
            {
                return new LinuxFd(-1);
            }

            using LinuxFd.Lease lease = entry.Path.Acquire();
            return new LinuxFd(Libc.dup(lease.Number));
        }
    }

    /// <summary>
    /// A new connection of its own to the port <paramref name="name"/> names, as a holder's (tests and the fuzzer write raw
    /// datagrams on it); invalid on failure or when the name no longer names a port.
    /// </summary>
    internal LinuxFd DuplicateSendEnd(uint name)
    {
        lock (_lock)
        {
            if (!_ports.TryGetValue(name, out PortEntry? entry) || entry.Path is null)
            {
                return new LinuxFd(-1);
            }

            using LinuxFd.Lease lease = entry.Path.Acquire();
            return PortSocket.Connect(lease.Number, out LinuxFd? connection) == 0 ? connection! : new LinuxFd(-1);
        }
    }

    /// <summary>Ties a bootstrap name to the receive right checked in under it: destroying the right releases the name.</summary>
    internal void AttachService(uint receiveRight, BootstrapRegistration registration)
    {
        lock (_lock)
        {
            _ports[receiveRight].Service = registration;
        }
    }

    // ---- name table (callers hold _lock) ----

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
    private void ReleaseReceive(PortEntry entry)
    {
        LeaveSet(entry);
        if (entry.Service is not null)
        {
            _bootstrap.Unregister(entry.Service);
            entry.Service = null;
        }

        entry.Receive!.Dispose();
        entry.Receive = null;
        if (entry.WakeEvent is not null)
        {
            SeqPacket.Signal(entry.WakeEvent);
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
        SeqPacket.Signal(set.WakeEvent);
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

        entry.Send?.Dispose();
        entry.Send = null;
        entry.Path?.Dispose();
        entry.Path = null;
        entry.PortId = default;
    }
}
