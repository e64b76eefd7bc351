using MachTransport.Mach.Abi;

namespace MachTransport.Mach.Linux;

/// <summary>
/// Received rights under names of this space (caller holds <c>_lock</c>): a send right merges with the name already held for
/// its port, a send-once right gets a name of its own, a receive right becomes the port's queue; a right to a port that
/// died on the way becomes MACH_PORT_DEAD.
/// </summary>
internal sealed partial class LinuxKernel
{
    /// <summary>
    /// Installs one received right and returns its name, or MACH_PORT_DEAD for a right to a port that died on the way
    /// (caller holds _lock). A receive right takes <paramref name="carried"/> descriptors and <paramref name="epoll"/>: its
    /// listener, <c>O_PATH</c>, connections and last the <paramref name="rings"/> rings the first connections brought.
    /// </summary>
    private uint Install(MachMsgTypeName type, List<int> fds, ref int index, int carried, uint rings, int epoll)
    {
        if (type == MachMsgTypeName.PortReceive)
        {
            var listener = LinuxFd.PeerWritable(fds[index]);
            int path = fds[index + 1];
            int connectionCount = carried - 2 - (int)rings;
            var connections = new List<LinuxFd>(connectionCount);
            for (int i = 2; i < 2 + connectionCount; i++)
            {
                SeqPacket.EnablePassCredentials(fds[index + i]);
                connections.Add(LinuxFd.PeerWritable(fds[index + i]));
            }

            // A ring that does not map (not a proper ring) is dropped: its connection's runs are refused, as a
            // previous owner that kept no ring would have them.
            var mapped = new List<OolReceiveRing?>((int)rings);
            for (int i = 2 + connectionCount; i < carried; i++)
            {
                mapped.Add(OolReceiveRing.TryMap(fds[index + i]));
                _ = Libc.close(fds[index + i]);
            }

            index += carried;
            PortEntry owner = EntryFor(path);
            owner.Receive = PortQueue.Create(listener, new LinuxFd(epoll), _holders, connections, mapped); // CanInstallReceiveRights ruled out a receive right already held
            return owner.Name;
        }

        int pathFd = fds[index++];
        if (type == MachMsgTypeName.PortSendOnce)
        {
            // Each send-once right connects on its own; its connection goes when it is used or released.
            PortEntry once = NewPortEntry();
            once.Path = new LinuxFd(pathFd);
            once.PortId = PortSocket.Identity(pathFd);
            once.IsSendOnce = true;
            return Connected(once);
        }

        PortEntry entry = EntryFor(pathFd);
        entry.SendUrefs++;
        return Connected(entry);
    }

    /// <summary>
    /// The name of <paramref name="entry"/> once this space is connected to its port; a port found dead makes the right
    /// MACH_PORT_DEAD (as XNU's copy-out of a right to a dead port). A full backlog leaves the connection to the first send.
    /// </summary>
    private uint Connected(PortEntry entry)
    {
        if (entry.Receive is not null || EnsureConnected(entry, out int error) is not null || !IsDeadPortError(error))
        {
            return entry.Name; // our own port needs no connection until we send to it
        }

        if (entry.IsSendOnce)
        {
            entry.IsSendOnce = false;
        }
        else
        {
            entry.SendUrefs--;
        }

        ReleaseIfUnused(entry);
        return MachPort.Dead;
    }

    /// <summary>The entry for the port <paramref name="path"/> leads to: the existing one (the duplicate is closed) or a new one.</summary>
    private PortEntry EntryFor(int path)
    {
        PortIdentity identity = PortSocket.Identity(path);
        if (_byPortId.TryGetValue(identity, out PortEntry? existing))
        {
            _ = Libc.close(path);
            return existing;
        }

        PortEntry entry = NewPortEntry();
        AttachPath(entry, new LinuxFd(path));
        return entry;
    }
}
