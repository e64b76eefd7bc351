using MachTransport.Mach.Abi;

namespace MachTransport.Mach.Linux;

/// <summary>
/// The <c>mach_port_*</c> calls that change this IPC space: allocate a port or port set, add, extract and drop rights
/// and user references, move receive rights in and out of port sets, set a port's queue limit.
/// </summary>
internal sealed partial class LinuxKernel
{
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
                    entry.Receive = PortQueue.Create(listener, new LinuxFd(queueEpoll), _holders, [ownQueueEnd]);
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
                LinuxFd? wake = Poll.CreateWakeEvent();
                if (wake is null || Epoll.Add(epollFd, wake, Libc.EPOLLIN, PortSetEntry.WakeKey) != 0)
                {
                    wake?.Dispose();
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
}
