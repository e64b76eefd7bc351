using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Messages;

namespace MachTransport.Mach.Linux;

/// <summary>
/// The receive half of <c>mach_msg</c>: take one datagram from a port (or any member of a port set), check
/// every byte and descriptor of it — it comes from another process and is untrusted — then copy out: install
/// the rights it carries under names of this space, map its out-of-line memory, write the header as XNU
/// delivers it and append the requested trailer with the sender's credentials.
/// A malformed datagram yields <see cref="MachMsgReturn.ReceiveHeaderError"/> or <see cref="MachMsgReturn.ReceiveBodyError"/>
/// with a bare header naming the port, and every descriptor that arrived with it is closed.
/// </summary>
internal sealed partial class LinuxKernel
{
    /// <summary>How often a receive without a wake event (none could be created) checks whether its port still exists.</summary>
    private const int WakelessSliceMilliseconds = 100;

    private static readonly int s_ownPid = Libc.getpid();

    [ThreadStatic]
    private static List<int>? t_receivedFds;

    private unsafe MachMsgReturn Receive(byte* buffer, uint limit, uint name, MachMsgOption options, int timeoutMilliseconds)
    {
        int trailerSize = MachMsgAuditTrailer.RequestedSize(options);
        if (limit < Unsafe.SizeOf<MachMsgHeader>() + trailerSize)
        {
            return MachMsgReturn.ReceiveTooLarge;
        }

        LinuxFd waitable;
        LinuxFd? wake;
        PortEntry? port;
        PortSetEntry? set;
        lock (_lock)
        {
            if (_portSets.TryGetValue(name, out set))
            {
                port = null;
                waitable = set.Epoll;
                wake = set.WakeEvent;
            }
            else if (_ports.TryGetValue(name, out port) && port.Receive is not null)
            {
                waitable = port.Receive.Epoll;
                wake = port.WakeEvent ??= SeqPacket.CreateEvent(); // null with the descriptor table full: waits in slices
            }
            else
            {
                return MachMsgReturn.ReceiveInvalidName;
            }

            bool added = false;
            waitable.DangerousAddRef(ref added);
            wake?.DangerousAddRef(ref added);
        }

        try
        {
            long deadline = timeoutMilliseconds < 0 ? long.MaxValue : Environment.TickCount64 + timeoutMilliseconds;
            bool waited = false;
            while (true)
            {
                PortEntry? source = port ?? NextReadyMember(set!);
                if (source is not null && IsReceivable(source, set))
                {
                    MachMsgReturn? received = TryReceiveFrom(source, buffer, limit, trailerSize, options, askEpoll: set is not null || waited);
                    if (received is { } result && (port is not null || result != MachMsgReturn.ReceivePortChanged))
                    {
                        return result;
                    }
                }
                else if (port is not null)
                {
                    return MachMsgReturn.ReceivePortChanged;
                }

                int remaining = deadline == long.MaxValue ? -1 : (int)Math.Max(0, deadline - Environment.TickCount64);
                if (remaining == 0)
                {
                    return MachMsgReturn.ReceiveTimedOut;
                }

                int slice = wake is null && (uint)remaining > WakelessSliceMilliseconds ? WakelessSliceMilliseconds : remaining;
                int ready = SeqPacket.Wait(waitable.Number, Libc.POLLIN, wake?.Number ?? -1, slice);
                waited = true;
                if (ready < 0 || (port is not null && !IsReceivable(port, null)) || (set is not null && !IsLive(set)))
                {
                    return MachMsgReturn.ReceivePortChanged;
                }

                if (ready == 0 && slice == remaining)
                {
                    return MachMsgReturn.ReceiveTimedOut;
                }
            }
        }
        finally
        {
            waitable.DangerousRelease();
            wake?.DangerousRelease();
        }
    }

    private bool IsReceivable(PortEntry entry, PortSetEntry? set)
    {
        lock (_lock)
        {
            return entry.Receive is not null && (set is null || entry.Set == set) && _ports.ContainsKey(entry.Name);
        }
    }

    private bool IsLive(PortSetEntry set)
    {
        lock (_lock)
        {
            return _portSets.ContainsKey(set.Name);
        }
    }

    private PortEntry? NextReadyMember(PortSetEntry set)
    {
        if (!Epoll.Wait(set.Epoll, 0, out ulong key, out _))
        {
            return null;
        }

        lock (_lock)
        {
            return _ports.TryGetValue((uint)key, out PortEntry? entry) && entry.Set == set ? entry : null;
        }
    }

    /// <summary>
    /// One non-blocking attempt; null when the port's queue is empty. The connection of the last message comes first;
    /// when it is empty, epoll is asked only with <paramref name="askEpoll"/> (else the caller waits on the queue first,
    /// which costs nothing more when the port is idle and returns at once when another holder has a message).
    /// </summary>
    private unsafe MachMsgReturn? TryReceiveFrom(PortEntry entry, byte* buffer, uint limit, int trailerSize, MachMsgOption options, bool askEpoll)
    {
        bool fast = true;
        while (true)
        {
            LinuxFd? connection = NextReadyConnection(entry, fast, out PortQueue? queue, out ulong key);
            if (queue is null)
            {
                return MachMsgReturn.ReceivePortChanged;
            }

            if (connection is null)
            {
                return null;
            }

            try
            {
                if (TryReceiveOn(entry, queue, key, connection, buffer, limit, trailerSize, options) is { } result)
                {
                    return result;
                }
            }
            finally
            {
                connection.DangerousRelease();
            }

            if (fast && !askEpoll)
            {
                return null;
            }

            fast = false;
        }
    }

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
    /// Accepts every holder waiting on the port's listener (caller holds _lock). Past <see cref="PortQueue.MaxConnections"/>
    /// a holder is turned away (it sees the port die); when accepting fails (descriptor table full) the listener rests 100 ms.
    /// </summary>
    private unsafe void AcceptHolders(PortEntry entry, PortQueue queue)
    {
        using LinuxFd.Lease listener = queue.Listener.Acquire();
        while (true)
        {
            int fd = Libc.accept4(listener.Number, null, null, Libc.SOCK_CLOEXEC | Libc.SOCK_NONBLOCK);
            if (fd < 0)
            {
                if (Libc.LastError is not (Libc.EAGAIN or Libc.EINTR))
                {
                    // EMFILE and the like: the pending holder would keep the listener ready; rest it instead of spinning.
                    Epoll.Remove(queue.Epoll, queue.Listener);
                    _kernelThread.Later(() => RearmListener(entry, queue));
                }

                return;
            }

            if (queue.ConnectionCount >= PortQueue.MaxConnections)
            {
                _ = Libc.close(fd);
                continue;
            }

            SeqPacket.EnablePassCredentials(fd);
            queue.Add(new LinuxFd(fd));
        }
    }

    private void RearmListener(PortEntry entry, PortQueue queue)
    {
        lock (_lock)
        {
            if (entry.Receive == queue)
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

    /// <summary>One attempt on one connection; null when it had nothing for us after all (taken by another receiver, or end-of-file).</summary>
    private unsafe MachMsgReturn? TryReceiveOn(PortEntry entry, PortQueue queue, ulong key, LinuxFd receive, byte* buffer, uint limit, int trailerSize, MachMsgOption options)
    {
        List<int> fds = t_receivedFds ??= [];
        try
        {
            int capacity = (int)limit - trailerSize;
            if ((options & MachMsgOption.ReceiveLarge) != 0)
            {
                nint pending = SeqPacket.PeekLength(receive.Number);
                if (pending == -Libc.EAGAIN)
                {
                    return null;
                }

                if (pending > capacity)
                {
                    // MACH_RCV_LARGE: the message stays queued; only msgh_size (and with LARGE_IDENTITY the port) is written.
                    ref MachMsgHeader partial = ref Unsafe.AsRef<MachMsgHeader>(buffer);
                    partial.Size = (uint)pending;
                    if ((options & MachMsgOption.ReceiveLargeIdentity) != 0)
                    {
                        partial.LocalPort = entry.Name;
                    }

                    return MachMsgReturn.ReceiveTooLarge;
                }
            }

            Span<byte> control = stackalloc byte[SeqPacket.ReceiveControlSize];
            var message = new Span<byte>(buffer, capacity);
            nint length = SeqPacket.Receive(receive.Number, message, control, fds, out Libc.UCred credentials, out bool hasCredentials, out int flags);
            if (length == -Libc.EAGAIN)
            {
                return null;
            }

            if (length < 0 || (length == 0 && fds.Count == 0 && SeqPacket.PeerShutDown(receive.Number)))
            {
                // End-of-file (or a reset) is no message: that holder's connection goes, the port stays.
                DropConnection(entry, queue, key, receive);
                return null;
            }

            uint seqno;
            lock (_lock)
            {
                seqno = entry.Seqno++;
            }

            MachMsgReturn result;
            int messageSize;
            if (length > capacity)
            {
                // Without MACH_RCV_LARGE a too-large message is dequeued and destroyed (mach-abi.md §5.4).
                SeqPacket.CloseAll(fds);
                result = MachMsgReturn.ReceiveTooLarge;
                messageSize = WriteBareHeader(message, entry.Name, (uint)length);
            }
            else
            {
                bool fromKernel = false;
                result = (flags & Libc.MSG_CTRUNC) != 0
                    ? MachMsgReturn.ReceiveBodyError
                    : CopyOut(message[..(int)length], entry.Name, fds, hasCredentials && credentials.Pid == s_ownPid, out fromKernel);
                SeqPacket.CloseAll(fds);
                messageSize = result == MachMsgReturn.Success ? (int)length : WriteBareHeader(message, entry.Name, (uint)Unsafe.SizeOf<MachMsgHeader>());
                if (fromKernel)
                {
                    hasCredentials = true;
                    credentials = default;
                }
            }

            WriteTrailer(new Span<byte>(buffer + messageSize, trailerSize), seqno, hasCredentials, credentials);
            return result;
        }
        finally
        {
            SeqPacket.CloseAll(fds);
        }
    }

    /// <summary>
    /// Validates the wire message and installs what it carries. On success every descriptor in <paramref name="fds"/> has
    /// been taken (the list is cleared); on failure nothing was installed and the caller closes them all.
    /// </summary>
    private MachMsgReturn CopyOut(Span<byte> message, uint portName, List<int> fds, bool fromThisProcess, out bool fromKernel)
    {
        fromKernel = false;
        if (message.Length < Unsafe.SizeOf<MachMsgHeader>() || (message.Length & 3) != 0)
        {
            return MachMsgReturn.ReceiveHeaderError;
        }

        ref MachMsgHeader header = ref MemoryMarshal.AsRef<MachMsgHeader>(message);
        MachMsgTypeName replyType = header.RemoteDisposition;
        MachMsgTypeName destinationType = header.LocalDisposition;
        bool replyCarried = header.RemotePort == 1;
        if (header.Size != message.Length
            || (header.Bits & ~(MachMsgBits.Complex | MachMsgBits.RemoteMask | MachMsgBits.LocalMask)) != 0
            || destinationType is not (MachMsgTypeName.PortSend or MachMsgTypeName.PortSendOnce)
            || replyType is not (MachMsgTypeName.None or MachMsgTypeName.PortSend or MachMsgTypeName.PortSendOnce)
            || (replyType == MachMsgTypeName.None) != (header.RemotePort == MachPort.Null)
            || (header.RemotePort is not (MachPort.Null or MachPort.Dead or 1))
            || header.LocalPort != MachPort.Null
            || header.VoucherPort is not (MachPort.Null or KernelOriginMarker)
            || (header.VoucherPort == KernelOriginMarker && !fromThisProcess))
        {
            return MachMsgReturn.ReceiveHeaderError;
        }

        fromKernel = header.VoucherPort == KernelOriginMarker;
        if (!MachMessageReader.TryCreate(message, out MachMessageReader reader, out _))
        {
            return MachMsgReturn.ReceiveBodyError;
        }

        // Pass 1: every descriptor well formed, and exactly as many descriptors attached as declared.
        int expected = replyCarried ? 1 : 0;
        int receiveRights = 0;
        int offset = DescriptorsOffset;
        foreach (MachDescriptor descriptor in reader.Descriptors)
        {
            int carried = CarriedFdCount(descriptor, message[offset..]);
            if (carried < 0)
            {
                return MachMsgReturn.ReceiveBodyError;
            }

            expected += carried;
            receiveRights += descriptor.Type == MachMsgDescriptorType.Port && descriptor.Disposition == MachMsgTypeName.PortReceive && carried > 0 ? 1 : 0;
            offset += MachDescriptor.SizeOf(descriptor.Type);
        }

        if (expected != fds.Count)
        {
            return MachMsgReturn.ReceiveBodyError;
        }

        // Pass 2: every descriptor is what it claims to be; map OOL memory and make each receive right's epoll
        // instance (undone if anything fails).
        int fdIndex = 0;
        if (replyCarried && PortSocket.Identity(fds[fdIndex++]).IsNone)
        {
            return MachMsgReturn.ReceiveBodyError;
        }

        Span<ulong> mapped = stackalloc ulong[Math.Min(reader.DescriptorCount, Libc.ScmMaxFd)];
        Span<PortIdentity> receivedPorts = stackalloc PortIdentity[receiveRights];
        Span<int> queueEpolls = stackalloc int[receiveRights];
        int mappedCount = 0;
        int receivedCount = 0;
        offset = DescriptorsOffset;
        foreach (MachDescriptor descriptor in reader.Descriptors)
        {
            bool valid = true;
            int carried = CarriedFdCount(descriptor, message[offset..]);
            if (descriptor.Type == MachMsgDescriptorType.Port && carried > 0)
            {
                if (descriptor.Disposition == MachMsgTypeName.PortReceive)
                {
                    // A receive right is the port's listener, its O_PATH and the holders' connections. The listener must
                    // be bound to the very socket file the O_PATH names, or a sender could pair any socket with the
                    // O_PATH of one of our own ports.
                    PortIdentity identity = PortSocket.Identity(fds[fdIndex + 1]);
                    valid = !identity.IsNone && PortSocket.IsListenerOf(fds[fdIndex], identity);
                    for (int i = 2; i < carried; i++)
                    {
                        valid &= SeqPacket.IsPortSocket(fds[fdIndex + i]);
                    }

                    int epoll = valid ? Libc.epoll_create1(Libc.EPOLL_CLOEXEC) : -1;
                    valid &= epoll >= 0;
                    receivedPorts[receivedCount] = identity;
                    queueEpolls[receivedCount++] = epoll;
                }
                else
                {
                    valid = !PortSocket.Identity(fds[fdIndex]).IsNone;
                }

                fdIndex += carried;
            }
            else if (descriptor.Type == MachMsgDescriptorType.Ool && descriptor.Address == 1)
            {
                ulong address = ReceiveOutOfLine(fds[fdIndex++], descriptor.Size);
                valid = address != 0;
                if (valid)
                {
                    mapped[mappedCount++] = address;
                }
            }

            offset += MachDescriptor.SizeOf(descriptor.Type);
            if (!valid)
            {
                UndoCopyOut(reader, mapped[..mappedCount], queueEpolls[..receivedCount]);
                // Memory that cannot be placed in this task is reported as XNU reports it (mach-abi.md §5.2).
                return descriptor.Type == MachMsgDescriptorType.Ool
                    ? (MachMsgReturn)((int)MachMsgReturn.ReceiveBodyError | MachMsgReturnBits.VmSpace)
                    : MachMsgReturn.ReceiveBodyError;
            }
        }

        // Pass 3: install rights under names and rewrite the buffer as XNU delivers it. Nothing can fail after the first check.
        fdIndex = 0;
        lock (_lock)
        {
            if (!CanInstallReceiveRights(receivedPorts))
            {
                UndoCopyOut(reader, mapped[..mappedCount], queueEpolls);
                return MachMsgReturn.ReceiveBodyError;
            }

            mappedCount = 0;
            receivedCount = 0;
            header.RemotePort = replyCarried
                ? Install(replyType, fds, ref fdIndex, 0, -1)
                : header.RemotePort;
            offset = DescriptorsOffset;
            foreach (MachDescriptor descriptor in reader.Descriptors)
            {
                Span<byte> at = message[offset..];
                int carried = CarriedFdCount(descriptor, at);
                if (descriptor.Type == MachMsgDescriptorType.Port && carried > 0)
                {
                    int epoll = descriptor.Disposition == MachMsgTypeName.PortReceive ? queueEpolls[receivedCount++] : -1;
                    ref MachMsgPortDescriptor port = ref MemoryMarshal.AsRef<MachMsgPortDescriptor>(at);
                    port.Name = Install(descriptor.Disposition, fds, ref fdIndex, carried, epoll);
                    port.Pad1 = 0;
                }
                else if (descriptor.Type == MachMsgDescriptorType.Ool && descriptor.Address == 1)
                {
                    MemoryMarshal.AsRef<MachMsgOolDescriptor>(at).Address = mapped[mappedCount++];
                    _ = Libc.close(fds[fdIndex++]);
                }

                offset += MachDescriptor.SizeOf(descriptor.Type);
            }
        }

        fds.Clear();
        header.LocalPort = portName;
        return MachMsgReturn.Success;
    }

    private static int DescriptorsOffset => Unsafe.SizeOf<MachMsgHeader>() + sizeof(uint);

    /// <summary>
    /// Whether receive rights to these ports may be installed (caller holds _lock): never for a port whose receive right
    /// this space already holds, nor twice for one port, or the message would alias our own right and disposing of it
    /// would destroy that port.
    /// </summary>
    private bool CanInstallReceiveRights(ReadOnlySpan<PortIdentity> portIds)
    {
        for (int i = 0; i < portIds.Length; i++)
        {
            if (portIds[..i].Contains(portIds[i])
                || (_byPortId.TryGetValue(portIds[i], out PortEntry? existing) && existing.Receive is not null))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Descriptors a wire descriptor carries, or -1 if it is malformed. A port right carries its <c>O_PATH</c>; a receive
    /// right also its listener and the holders' connections, whose count the wire descriptor's pad1 gives.
    /// </summary>
    private static int CarriedFdCount(MachDescriptor descriptor, ReadOnlySpan<byte> at)
    {
        switch (descriptor.Type)
        {
            case MachMsgDescriptorType.Port:
                uint connections = MemoryMarshal.Read<MachMsgPortDescriptor>(at).Pad1;
                if (descriptor.Disposition is not (MachMsgTypeName.PortReceive or MachMsgTypeName.PortSend or MachMsgTypeName.PortSendOnce)
                    || (connections != 0 && (descriptor.Disposition != MachMsgTypeName.PortReceive || descriptor.Name != 1 || connections > Libc.ScmMaxFd)))
                {
                    return -1;
                }

                return descriptor.Name switch
                {
                    MachPort.Null or MachPort.Dead => 0,
                    1 => descriptor.Disposition == MachMsgTypeName.PortReceive ? 2 + (int)connections : 1,
                    _ => -1,
                };

            case MachMsgDescriptorType.Ool when descriptor.Copy > MachMsgCopyOptions.VirtualCopy:
                return -1;

            case MachMsgDescriptorType.Ool:
                return (descriptor.Address, descriptor.Size) switch
                {
                    (0, 0) => 0,
                    (1, > 0) => 1,
                    _ => -1,
                };

            default:
                return -1;
        }
    }

    private void UndoCopyOut(MachMessageReader reader, ReadOnlySpan<ulong> mapped, ReadOnlySpan<int> epolls)
    {
        int index = 0;
        foreach (MachDescriptor descriptor in reader.Descriptors)
        {
            if (index < mapped.Length && descriptor.Type == MachMsgDescriptorType.Ool && descriptor.Address == 1)
            {
                _ = VmDeallocate(mapped[index++], descriptor.Size);
            }
        }

        foreach (int epoll in epolls)
        {
            if (epoll >= 0)
            {
                _ = Libc.close(epoll);
            }
        }
    }

    /// <summary>
    /// Installs one received right and returns its name, or MACH_PORT_DEAD for a right to a port that died on the way
    /// (caller holds _lock). A receive right takes <paramref name="carried"/> descriptors and <paramref name="epoll"/>.
    /// </summary>
    private uint Install(MachMsgTypeName type, List<int> fds, ref int index, int carried, int epoll)
    {
        if (type == MachMsgTypeName.PortReceive)
        {
            var listener = new LinuxFd(fds[index]);
            int path = fds[index + 1];
            var connections = new List<LinuxFd>(carried - 2);
            for (int i = 2; i < carried; i++)
            {
                SeqPacket.EnablePassCredentials(fds[index + i]);
                connections.Add(new LinuxFd(fds[index + i]));
            }

            index += carried;
            PortEntry owner = EntryFor(path);
            owner.Receive = PortQueue.Create(listener, new LinuxFd(epoll), connections); // CanInstallReceiveRights ruled out a receive right already held
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

    /// <summary>A send right that arrived outside a message (bootstrap look-up); MACH_PORT_DEAD if its port is dead.</summary>
    internal uint InstallSendRight(int path)
    {
        lock (_lock)
        {
            PortEntry entry = EntryFor(path);
            entry.SendUrefs++;
            return Connected(entry);
        }
    }

    private static int WriteBareHeader(Span<byte> message, uint portName, uint size)
    {
        int id = message.Length >= Unsafe.SizeOf<MachMsgHeader>() ? MemoryMarshal.Read<MachMsgHeader>(message).Id : 0;
        var header = new MachMsgHeader { Size = size, LocalPort = portName, Id = id };
        MemoryMarshal.Write(message, in header);
        return Unsafe.SizeOf<MachMsgHeader>();
    }

    /// <summary>
    /// The audit trailer from SCM_CREDENTIALS. Linux passes the sender's pid, real uid and gid; they fill both the
    /// effective and real fields. Kernel-originated messages carry the all-zero kernel token, as XNU's do.
    /// </summary>
    private static void WriteTrailer(Span<byte> destination, uint seqno, bool hasCredentials, Libc.UCred credentials)
    {
        destination.Clear();
        var trailer = new MachMsgAuditTrailer
        {
            TrailerSize = (uint)destination.Length,
            Seqno = seqno,
            SenderUid = hasCredentials ? credentials.Uid : uint.MaxValue,
            SenderGid = hasCredentials ? credentials.Gid : uint.MaxValue,
            Audit = hasCredentials
                ? new AuditToken
                {
                    AuditUserId = credentials.Uid,
                    EffectiveUid = credentials.Uid,
                    EffectiveGid = credentials.Gid,
                    RealUid = credentials.Uid,
                    RealGid = credentials.Gid,
                    Pid = credentials.Pid,
                }
                : new AuditToken
                {
                    AuditUserId = uint.MaxValue,
                    EffectiveUid = uint.MaxValue,
                    EffectiveGid = uint.MaxValue,
                    RealUid = uint.MaxValue,
                    RealGid = uint.MaxValue,
                    Pid = -1,
                    AuditSessionId = uint.MaxValue,
                    PidVersion = uint.MaxValue,
                },
        };
        ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<MachMsgAuditTrailer>(in trailer));
        bytes[..Math.Min(bytes.Length, destination.Length)].CopyTo(destination);
    }
}
