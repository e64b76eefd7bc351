using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Messages;

namespace MachTransport.Mach.Linux;

/// <summary>
/// Send-side copy-in: validate the message as XNU does, resolve the destination and every right it carries (as the
/// descriptors that travel in SCM_RIGHTS) and out-of-line memory (as sealed memfds), and rewrite the buffer into the
/// wire form of docs/linux-emulation.md. Nothing is consumed here: moved rights go only once the datagram is queued.
/// </summary>
internal sealed partial class LinuxKernel
{
    /// <summary>Validates the message, resolves every right and memory region, and rewrites the buffer into wire form.</summary>
    /// <remarks>
    /// <paramref name="destination"/> is this space's connection to the destination port, or, when the port was full
    /// (no connection could be made), the port's <c>O_PATH</c> to connect through once it has room.
    /// </remarks>
    private MachMsgReturn CopyIn(Span<byte> bytes, SendScratch scratch, out PortEntry destinationEntry, out LinuxFd destination)
    {
        destinationEntry = null!;
        destination = null!;
        ref MachMsgHeader header = ref MemoryMarshal.AsRef<MachMsgHeader>(bytes);
        MachMsgTypeName remote = header.RemoteDisposition;
        MachMsgTypeName local = header.LocalDisposition;
        if ((header.Bits & ~MachMsgBits.User) != 0
            || (header.Bits & MachMsgBits.VoucherMask) != 0
            || !IsSendDisposition(remote)
            || (local == MachMsgTypeName.None ? header.LocalPort != MachPort.Null : !IsSendDisposition(local)))
        {
            return MachMsgReturn.SendInvalidHeader;
        }

        if (!MachPort.IsValid(header.RemotePort))
        {
            return MachMsgReturn.SendInvalidDest;
        }

        if (!MachMessageReader.TryCreate(bytes, out MachMessageReader reader, out _))
        {
            return MachMsgReturn.SendMsgTooSmall;
        }

        uint replyMarker = MachPort.Null;
        MachMsgTypeName replyType = MachMsgTypeName.None;
        lock (_lock)
        {
            if (!TryResolveSendable(header.RemotePort, remote, scratch, out PortEntry? resolved))
            {
                return MachMsgReturn.SendInvalidDest;
            }

            destinationEntry = resolved;
            scratch.DestinationFull = resolved.Send is null;
            destination = resolved.Send ?? resolved.Path!;
            scratch.Hold(destination);

            if (local != MachMsgTypeName.None && header.LocalPort != MachPort.Null)
            {
                if (header.LocalPort == MachPort.Dead)
                {
                    replyMarker = MachPort.Dead;
                }
                else if (!TryCarry(header.LocalPort, local, scratch, out _))
                {
                    return MachMsgReturn.SendInvalidReply;
                }
                else
                {
                    replyMarker = 1;
                }

                replyType = ReceivedType(local);
            }

            int offset = Unsafe.SizeOf<MachMsgHeader>() + sizeof(uint);
            foreach (MachDescriptor descriptor in reader.Descriptors)
            {
                MachMsgReturn described = CopyInDescriptor(bytes[offset..], offset, descriptor, scratch);
                if (described != MachMsgReturn.Success)
                {
                    return described;
                }

                offset += MachDescriptor.SizeOf(descriptor.Type);
            }
        }

        MachMsgReturn memory = CopyInMemory(bytes, scratch, destinationEntry);
        if (memory != MachMsgReturn.Success)
        {
            return memory;
        }

        if (scratch.FdCount > Libc.ScmMaxFd)
        {
            return MachMsgReturn.SendTooLarge;
        }

        // Wire header: the reply right's type in REMOTE, the destination's in LOCAL, markers instead of names.
        MachMsgTypeName destinationType = remote is MachMsgTypeName.MoveSendOnce or MachMsgTypeName.MakeSendOnce
            ? MachMsgTypeName.PortSendOnce
            : MachMsgTypeName.PortSend;
        header.Bits = MachMsgBits.Make(replyType, destinationType, header.IsComplex);
        header.RemotePort = replyMarker;
        header.LocalPort = MachPort.Null;
        header.VoucherPort = MachPort.Null;
        return MachMsgReturn.Success;
    }

    private MachMsgReturn CopyInDescriptor(Span<byte> at, int offset, MachDescriptor descriptor, SendScratch scratch)
    {
        switch (descriptor.Type)
        {
            case MachMsgDescriptorType.Port:
                ref MachMsgPortDescriptor port = ref MemoryMarshal.AsRef<MachMsgPortDescriptor>(at);
                MachMsgTypeName disposition = descriptor.Disposition;
                if (disposition is < MachMsgTypeName.MoveReceive or > MachMsgTypeName.MakeSendOnce)
                {
                    return MachMsgReturn.SendInvalidType;
                }

                uint connections = 0;
                if (MachPort.IsValid(port.Name))
                {
                    if (!TryCarry(port.Name, disposition, scratch, out connections))
                    {
                        return MachMsgReturn.SendInvalidRight;
                    }

                    port.Name = 1;
                }

                port.Disposition = (byte)ReceivedType(disposition);
                port.Pad1 = connections;
                port.Pad2 = 0;
                return MachMsgReturn.Success;

            case MachMsgDescriptorType.Ool or MachMsgDescriptorType.OolVolatile:
                ref MachMsgOolDescriptor ool = ref MemoryMarshal.AsRef<MachMsgOolDescriptor>(at);
                if (ool.Copy > MachMsgCopyOptions.VirtualCopy)
                {
                    return MachMsgReturn.SendInvalidType;
                }

                if (ool.Size > 0)
                {
                    scratch.Regions.Add(new OutOfLineRegion(ool.Address, ool.Size, ool.Deallocate != 0, offset));
                    scratch.ReserveFd();
                    ool.Address = 1;
                }
                else
                {
                    ool.Address = 0;
                }

                // Mach reports deallocate to the receiver only for virtual copies (mach-abi.md §11.6).
                ool.Deallocate = ool.Copy == MachMsgCopyOptions.VirtualCopy ? (byte)1 : (byte)0;
                ool.Type = MachMsgDescriptorType.Ool;
                ool.Pad1 = 0;
                return MachMsgReturn.Success;

            default:
                // OOL port arrays and guarded ports are not emulated.
                return MachMsgReturn.SendInvalidType;
        }
    }

    /// <summary>
    /// Carries each OOL region, filling the reserved descriptor slots in order: a copied region of up to
    /// <see cref="OolRing.MaxPayload"/> through the destination's ring while the datagram's ring total stays within it
    /// and the ring has a free run; any other region (a moved <see cref="VmAllocate"/> region, a larger one, a full ring)
    /// as a sealed memfd of its own.
    /// </summary>
    private MachMsgReturn CopyInMemory(Span<byte> bytes, SendScratch scratch, PortEntry destination)
    {
        uint ringBudget = OolRing.MaxPayload;
        foreach (OutOfLineRegion region in scratch.Regions)
        {
            int ringError = 0;
            if (!region.Deallocate && region.Size <= ringBudget && TryCarryInRing(bytes, region, scratch, destination, out ringError))
            {
                ringBudget -= region.Size;
                continue;
            }

            if (ringError != 0)
            {
                return ringError == Libc.EFAULT ? MachMsgReturn.SendInvalidMemory : MachMsgReturn.SendNoBuffer;
            }

            int error = PrepareOutOfLine(region.Address, region.Size, region.Deallocate, out LinuxFd? memfd);
            if (error != 0)
            {
                return error == Libc.EFAULT ? MachMsgReturn.SendInvalidMemory : MachMsgReturn.SendNoBuffer;
            }

            scratch.FillReservedFd(memfd!, owned: true);
        }

        return MachMsgReturn.Success;
    }

    /// <summary>
    /// Resolves the destination right (caller holds _lock); MOVE dispositions are remembered for consumption. A full port
    /// (EAGAIN) resolves without a connection: the send waits for room (<see cref="ConnectWhenRoom"/>).
    /// </summary>
    private bool TryResolveSendable(uint name, MachMsgTypeName disposition, SendScratch scratch, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PortEntry? entry)
    {
        if (!_ports.TryGetValue(name, out entry) || !Holds(entry, disposition))
        {
            return false;
        }

        if (EnsureConnected(entry, out int error) is null && error != Libc.EAGAIN)
        {
            if (IsDeadPortError(error) && entry.Receive is null)
            {
                MarkDead(entry);
            }

            return false;
        }

        scratch.Carried.Add((entry, disposition));
        return true;
    }

    /// <summary>
    /// Adds the descriptors that carry one right: the port's <c>O_PATH</c>; for a receive right first its listener and
    /// after it every holder's connection, and last the rings the first connections brought, so their owner-to-be can
    /// copy the runs already queued (<paramref name="connections"/>: their count in the low 16 bits, the rings' count in
    /// the high 16 bits).
    /// </summary>
    private bool TryCarry(uint name, MachMsgTypeName disposition, SendScratch scratch, out uint connections)
    {
        connections = 0;
        if (!_ports.TryGetValue(name, out PortEntry? entry) || !Holds(entry, disposition) || entry.Path is null)
        {
            return false;
        }

        if (disposition == MachMsgTypeName.MoveReceive)
        {
            scratch.Hold(entry.Receive!.Listener);
            scratch.Hold(entry.Path);
            var held = new List<LinuxFd>();
            var rings = new List<LinuxFd>();
            entry.Receive.CollectForMove(held, rings);
            foreach (LinuxFd connection in held)
            {
                scratch.Hold(connection);
            }

            foreach (LinuxFd ring in rings)
            {
                scratch.HoldOwned(ring);
            }

            connections = (uint)held.Count | ((uint)rings.Count << 16);
        }
        else
        {
            scratch.Hold(entry.Path);
        }

        scratch.Carried.Add((entry, disposition));
        return true;
    }

    private static bool Holds(PortEntry entry, MachMsgTypeName disposition) => disposition switch
    {
        MachMsgTypeName.MoveReceive => entry.Receive is not null,
        MachMsgTypeName.MoveSend or MachMsgTypeName.CopySend => entry.SendUrefs > 0,
        MachMsgTypeName.MakeSend or MachMsgTypeName.MakeSendOnce => entry.Receive is not null,
        MachMsgTypeName.MoveSendOnce => entry.IsSendOnce,
        _ => false,
    };

    private static bool IsSendDisposition(MachMsgTypeName disposition)
        => disposition is >= MachMsgTypeName.MoveSend and <= MachMsgTypeName.MakeSendOnce;

    /// <summary>The right a disposition turns into at the receiver (<c>ipc_object_copyin_type</c>, mach-abi.md §4).</summary>
    private static MachMsgTypeName ReceivedType(MachMsgTypeName disposition) => disposition switch
    {
        MachMsgTypeName.MoveReceive => MachMsgTypeName.PortReceive,
        MachMsgTypeName.MoveSendOnce or MachMsgTypeName.MakeSendOnce => MachMsgTypeName.PortSendOnce,
        _ => MachMsgTypeName.PortSend,
    };

    /// <summary>An OOL region of the message; <paramref name="Descriptor"/> is where its wire descriptor lies in the message.</summary>
    private readonly record struct OutOfLineRegion(ulong Address, uint Size, bool Deallocate, int Descriptor);
}
