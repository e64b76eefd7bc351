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
        LinuxFd wake;
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
                waitable = port.Receive;
                wake = port.WakeEvent ??= SeqPacket.CreateEvent();
            }
            else
            {
                return MachMsgReturn.ReceiveInvalidName;
            }

            bool added = false;
            waitable.DangerousAddRef(ref added);
            wake.DangerousAddRef(ref added);
        }

        try
        {
            long deadline = timeoutMilliseconds < 0 ? long.MaxValue : Environment.TickCount64 + timeoutMilliseconds;
            while (true)
            {
                PortEntry? source = port ?? NextReadyMember(set!);
                if (source is not null && IsReceivable(source, set))
                {
                    MachMsgReturn? received = TryReceiveFrom(source, buffer, limit, trailerSize, options);
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

                int ready = SeqPacket.Wait(waitable.Number, Libc.POLLIN, wake.Number, remaining);
                if (ready < 0 || (port is not null && !IsReceivable(port, null)) || (set is not null && !IsLive(set)))
                {
                    return MachMsgReturn.ReceivePortChanged;
                }

                if (ready == 0)
                {
                    return MachMsgReturn.ReceiveTimedOut;
                }
            }
        }
        finally
        {
            waitable.DangerousRelease();
            wake.DangerousRelease();
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

    /// <summary>One non-blocking attempt; null when the port's queue is empty.</summary>
    private unsafe MachMsgReturn? TryReceiveFrom(PortEntry entry, byte* buffer, uint limit, int trailerSize, MachMsgOption options)
    {
        LinuxFd? receive;
        lock (_lock)
        {
            receive = entry.Receive;
            if (receive is null)
            {
                return MachMsgReturn.ReceivePortChanged;
            }

            bool added = false;
            receive.DangerousAddRef(ref added);
        }

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

            if (length < 0)
            {
                return MachMsgReturn.ReceivePortChanged;
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
            receive.DangerousRelease();
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
        foreach (MachDescriptor descriptor in reader.Descriptors)
        {
            int carried = CarriedFdCount(descriptor);
            if (carried < 0)
            {
                return MachMsgReturn.ReceiveBodyError;
            }

            expected += carried;
        }

        if (expected != fds.Count)
        {
            return MachMsgReturn.ReceiveBodyError;
        }

        // Pass 2: every descriptor is what it claims to be; map OOL memory (undone if anything fails).
        int fdIndex = 0;
        if (replyCarried && !SeqPacket.IsPortSocket(fds[fdIndex++]))
        {
            return MachMsgReturn.ReceiveBodyError;
        }

        Span<ulong> mapped = stackalloc ulong[Math.Min(reader.DescriptorCount, Libc.ScmMaxFd)];
        int mappedCount = 0;
        foreach (MachDescriptor descriptor in reader.Descriptors)
        {
            bool valid = true;
            if (descriptor.Type == MachMsgDescriptorType.Port && descriptor.Name == 1)
            {
                for (int i = 0; i < CarriedFdCount(descriptor); i++)
                {
                    valid &= SeqPacket.IsPortSocket(fds[fdIndex++]);
                }
            }
            else if (descriptor.Type == MachMsgDescriptorType.Ool && descriptor.Address == 1)
            {
                ulong address = MapReceivedOutOfLine(fds[fdIndex++], descriptor.Size);
                valid = address != 0;
                if (valid)
                {
                    mapped[mappedCount++] = address;
                }
            }

            if (!valid)
            {
                UnmapAll(reader, mapped[..mappedCount]);
                // Memory that cannot be placed in this task is reported as XNU reports it (mach-abi.md §5.2).
                return descriptor.Type == MachMsgDescriptorType.Ool
                    ? (MachMsgReturn)((int)MachMsgReturn.ReceiveBodyError | MachMsgReturnBits.VmSpace)
                    : MachMsgReturn.ReceiveBodyError;
            }
        }

        // Pass 3: install rights under names and rewrite the buffer as XNU delivers it. Nothing can fail now.
        fdIndex = 0;
        mappedCount = 0;
        lock (_lock)
        {
            header.RemotePort = replyCarried
                ? Install(replyType, fds, ref fdIndex)
                : header.RemotePort;
            int offset = Unsafe.SizeOf<MachMsgHeader>() + sizeof(uint);
            foreach (MachDescriptor descriptor in reader.Descriptors)
            {
                Span<byte> at = message[offset..];
                if (descriptor.Type == MachMsgDescriptorType.Port && descriptor.Name == 1)
                {
                    MemoryMarshal.AsRef<MachMsgPortDescriptor>(at).Name = Install(descriptor.Disposition, fds, ref fdIndex);
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

    /// <summary>Descriptors a wire descriptor carries, or -1 if it is malformed.</summary>
    private static int CarriedFdCount(MachDescriptor descriptor) => descriptor.Type switch
    {
        MachMsgDescriptorType.Port when descriptor.Disposition is not (MachMsgTypeName.PortReceive or MachMsgTypeName.PortSend or MachMsgTypeName.PortSendOnce) => -1,
        MachMsgDescriptorType.Port => descriptor.Name switch
        {
            MachPort.Null or MachPort.Dead => 0,
            1 => descriptor.Disposition == MachMsgTypeName.PortReceive ? 2 : 1,
            _ => -1,
        },
        MachMsgDescriptorType.Ool when descriptor.Copy > MachMsgCopyOptions.VirtualCopy => -1,
        MachMsgDescriptorType.Ool => (descriptor.Address, descriptor.Size) switch
        {
            (0, 0) => 0,
            (1, > 0) => 1,
            _ => -1,
        },
        _ => -1,
    };

    private static unsafe void UnmapAll(MachMessageReader reader, ReadOnlySpan<ulong> mapped)
    {
        int index = 0;
        foreach (MachDescriptor descriptor in reader.Descriptors)
        {
            if (index < mapped.Length && descriptor.Type == MachMsgDescriptorType.Ool && descriptor.Address == 1)
            {
                _ = Libc.munmap((void*)mapped[index++], descriptor.Size);
            }
        }
    }

    /// <summary>Installs one received right and returns its name (caller holds _lock).</summary>
    private uint Install(MachMsgTypeName type, List<int> fds, ref int index)
    {
        switch (type)
        {
            case MachMsgTypeName.PortReceive:
                int receive = fds[index++];
                int send = fds[index++];
                SeqPacket.EnablePassCredentials(receive);
                PortEntry owner = InstallSendEnd(send);
                if (owner.Receive is null)
                {
                    owner.Receive = new LinuxFd(receive);
                }
                else
                {
                    _ = Libc.close(receive); // a second receive end claiming a port we already receive on
                }

                return owner.Name;

            case MachMsgTypeName.PortSendOnce:
                PortEntry once = NewPortEntry();
                once.Send = new LinuxFd(fds[index++]);
                once.IsSendOnce = true;
                return once.Name;

            default:
                PortEntry entry = InstallSendEnd(fds[index++]);
                entry.SendUrefs++;
                return entry.Name;
        }
    }

    /// <summary>The entry for the port whose send end is <paramref name="fd"/>: the existing one (the duplicate is closed) or a new one.</summary>
    private PortEntry InstallSendEnd(int fd)
    {
        ulong portId = SeqPacket.GetCookie(fd);
        if (_byPortId.TryGetValue(portId, out PortEntry? existing))
        {
            _ = Libc.close(fd);
            return existing;
        }

        PortEntry entry = NewPortEntry();
        AttachSend(entry, new LinuxFd(fd));
        return entry;
    }

    /// <summary>A send right that arrived outside a message (bootstrap look-up).</summary>
    internal uint InstallSendRight(int fd)
    {
        lock (_lock)
        {
            PortEntry entry = InstallSendEnd(fd);
            entry.SendUrefs++;
            return entry.Name;
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
