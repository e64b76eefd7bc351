using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Messages;

namespace MachTransport.Mach.Linux;

/// <summary>
/// Receive-side copy-out: check every byte and descriptor of a datagram — it comes from another process and is untrusted —
/// then map its out-of-line memory, install the rights it carries and rewrite the buffer as XNU delivers it. Anything
/// malformed is refused before anything is installed.
/// </summary>
internal sealed partial class LinuxKernel
{
    /// <summary>
    /// Validates the wire message and installs what it carries. On success every descriptor in <paramref name="fds"/> has
    /// been taken (the list is cleared); on failure nothing was installed and the caller closes them all.
    /// </summary>
    private MachMsgReturn CopyOut(Span<byte> message, uint portName, List<int> fds, bool fromThisProcess, RingSource ringSource, out bool fromKernel)
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
        ulong copyBudget = ReceivedRegionPool.MaxPooledSize; // per datagram: what a peer can make us copy before anyone looks
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
                    // The connections that brought rings come first, their rings (memfds, checked as they are mapped) last.
                    PortIdentity identity = PortSocket.Identity(fds[fdIndex + 1]);
                    valid = !identity.IsNone && PortSocket.IsListenerOf(fds[fdIndex], identity);
                    for (int i = 2; i < carried - (int)(MemoryMarshal.Read<MachMsgPortDescriptor>(message[offset..]).Pad1 >> 16); i++)
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
            else if (descriptor.Type == MachMsgDescriptorType.Ool && IsCarried(descriptor))
            {
                ulong address = descriptor.Address == 1
                    ? ReceiveOutOfLine(fds[fdIndex++], descriptor.Size, ref copyBudget)
                    : ReceiveFromRing(carried > 0 ? fds[fdIndex++] : -1, descriptor.Address, descriptor.Size, ringSource, ref copyBudget);
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
                ? Install(replyType, fds, ref fdIndex, 0, 0, -1)
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
                    port.Name = Install(descriptor.Disposition, fds, ref fdIndex, carried, port.Pad1 >> 16, epoll);
                    port.Pad1 = 0;
                }
                else if (descriptor.Type == MachMsgDescriptorType.Ool && IsCarried(descriptor))
                {
                    MemoryMarshal.AsRef<MachMsgOolDescriptor>(at).Address = mapped[mappedCount++];
                    if (carried > 0)
                    {
                        _ = Libc.close(fds[fdIndex++]);
                    }
                }

                offset += MachDescriptor.SizeOf(descriptor.Type);
            }
        }

        fds.Clear();
        header.LocalPort = portName;
        return MachMsgReturn.Success;
    }

    /// <summary>
    /// An OOL descriptor whose memory travels outside the datagram: a memfd of its own (address 1) or a run in the
    /// sender's ring (attached with the datagram, or the one the connection already delivered).
    /// </summary>
    private static bool IsCarried(MachDescriptor descriptor) => descriptor.Size > 0 && (descriptor.Address == 1 || OolRing.IsWireAddress(descriptor.Address));

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
    /// right also its listener, the holders' connections and the rings the first of them brought, whose counts the wire
    /// descriptor's pad1 gives (connections in the low 16 bits, rings in the high 16 bits). A ring payload carries the
    /// ring while its receiver has not said it holds it.
    /// </summary>
    private static int CarriedFdCount(MachDescriptor descriptor, ReadOnlySpan<byte> at)
    {
        switch (descriptor.Type)
        {
            case MachMsgDescriptorType.Port:
                uint pad1 = MemoryMarshal.Read<MachMsgPortDescriptor>(at).Pad1;
                uint connections = pad1 & 0xFFFF, rings = pad1 >> 16;
                if (descriptor.Disposition is not (MachMsgTypeName.PortReceive or MachMsgTypeName.PortSend or MachMsgTypeName.PortSendOnce)
                    || (pad1 != 0 && (descriptor.Disposition != MachMsgTypeName.PortReceive || descriptor.Name != 1 || connections > Libc.ScmMaxFd || rings > connections)))
                {
                    return -1;
                }

                return descriptor.Name switch
                {
                    MachPort.Null or MachPort.Dead => 0,
                    1 => descriptor.Disposition == MachMsgTypeName.PortReceive ? 2 + (int)(connections + rings) : 1,
                    _ => -1,
                };

            case MachMsgDescriptorType.Ool when descriptor.Copy > MachMsgCopyOptions.VirtualCopy:
                return -1;

            case MachMsgDescriptorType.Ool:
                return (descriptor.Address, descriptor.Size) switch
                {
                    (0, 0) => 0,
                    (1, > 0) => 1,
                    _ when OolRing.IsWireAddress(descriptor.Address) && OolRing.IsValidRun(OolRing.FirstChunk(descriptor.Address), descriptor.Size)
                        => OolRing.IsAttached(descriptor.Address) ? 1 : 0,
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
            if (index < mapped.Length && descriptor.Type == MachMsgDescriptorType.Ool && IsCarried(descriptor))
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
}
