using MachTransport.Mach.Abi;

namespace MachTransport.Mach.Linux;

/// <summary>
/// Mach IPC emulated in user space for Linux. It plays the kernel's part for this process: an IPC space
/// (names → rights) over SOCK_SEQPACKET socketpairs, copy-in of rights and out-of-line memory on send,
/// copy-out with names, mapped memory and a trailer on receive, dead-name notifications and a bootstrap
/// namespace. See docs/linux-emulation.md for the mapping and its limits.
/// </summary>
internal sealed partial class LinuxKernel : IMachKernel
{
    private readonly object _lock = new();
    private readonly Dictionary<uint, PortEntry> _ports = [];
    private readonly Dictionary<uint, PortSetEntry> _portSets = [];
    private readonly Dictionary<ulong, PortEntry> _byPortId = [];
    private readonly LinuxBootstrap _bootstrap;
    private uint _nextNameIndex;

    private LinuxKernel()
    {
        PageSize = Environment.SystemPageSize;
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
                if (SeqPacket.CreatePort(out LinuxFd receive, out LinuxFd send) != 0)
                {
                    return KernReturn.ResourceShortage;
                }

                lock (_lock)
                {
                    PortEntry entry = NewPortEntry();
                    entry.Receive = receive;
                    AttachSend(entry, send);
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
                    if (NewSendOnce(entry.Send!) is not { } once)
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

            if (Epoll.Add(set.Epoll, entry.Receive, Libc.EPOLLIN, name) != 0)
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

    /// <summary>A descriptor of the send end of the port <paramref name="receiveRight"/> names (for the bootstrap listener); invalid when none is free.</summary>
    internal LinuxFd DuplicateSendEnd(uint receiveRight)
    {
        lock (_lock)
        {
            using LinuxFd.Lease lease = _ports[receiveRight].Send!.Acquire();
            return new LinuxFd(Libc.dup(lease.Number));
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

    /// <summary>A send-once right to the port whose send end is <paramref name="sendEnd"/>, or null when no descriptor is free.</summary>
    private PortEntry? NewSendOnce(LinuxFd sendEnd)
    {
        int fd;
        using (LinuxFd.Lease lease = sendEnd.Acquire())
        {
            fd = Libc.dup(lease.Number);
        }

        if (fd < 0)
        {
            return null;
        }

        PortEntry entry = NewPortEntry();
        entry.Send = new LinuxFd(fd);
        entry.IsSendOnce = true;
        return entry;
    }

    /// <summary>Gives <paramref name="entry"/> its send end and indexes it by port identity.</summary>
    private void AttachSend(PortEntry entry, LinuxFd send)
    {
        entry.Send = send;
        using LinuxFd.Lease lease = send.Acquire();
        entry.PortId = SeqPacket.GetCookie(lease.Number);
        _byPortId[entry.PortId] = entry;
    }

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

    /// <summary>
    /// A holder shut the port's shared send end down (the receive end reads end-of-file forever): the port gets a new
    /// socketpair under the same name, with its receive right, our send rights, set membership and bootstrap name.
    /// Other holders see the old port die (dead names); a new look-up reaches the new one.
    /// </summary>
    private void RenewPort(PortEntry entry, LinuxFd brokenReceive)
    {
        lock (_lock)
        {
            if (entry.Receive != brokenReceive)
            {
                return; // renewed, moved or destroyed meanwhile
            }

            if (SeqPacket.CreatePort(out LinuxFd receive, out LinuxFd send) != 0)
            {
                Monitor.Wait(_lock, WakelessSliceMilliseconds); // no descriptors: back off rather than read end-of-file in a loop
                return;
            }

            if (entry.Set is { } set)
            {
                Epoll.Remove(set.Epoll, brokenReceive);
                _ = Epoll.Add(set.Epoll, receive, Libc.EPOLLIN, entry.Name);
            }

            entry.Receive = receive;
            brokenReceive.Dispose();
            if (_byPortId.TryGetValue(entry.PortId, out PortEntry? indexed) && indexed == entry)
            {
                _byPortId.Remove(entry.PortId);
            }

            entry.Send!.Dispose();
            AttachSend(entry, send);
            if (entry.Service is { } service)
            {
                LinuxFd serviceSend = DuplicateSendEnd(entry.Name);
                _kernelThread.Post(() => service.ReplaceServiceSend(serviceSend));
            }

            // Receivers blocked on the old receive end wake by its end-of-file and follow the renewal (FollowRenewal).
        }
    }

    private static void LeaveSet(PortEntry entry)
    {
        if (entry.Set is { } set)
        {
            Epoll.Remove(set.Epoll, entry.Receive!);
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

    private void DetachSend(PortEntry entry)
    {
        if (entry.Send is null)
        {
            return;
        }

        StopMonitoring(entry);
        if (entry.PortId != 0 && _byPortId.TryGetValue(entry.PortId, out PortEntry? indexed) && indexed == entry)
        {
            _byPortId.Remove(entry.PortId);
        }

        entry.Send.Dispose();
        entry.Send = null;
        entry.PortId = 0;
    }
}
