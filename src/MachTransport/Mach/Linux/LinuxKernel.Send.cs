using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Messages;

namespace MachTransport.Mach.Linux;

/// <summary>
/// The send half of <c>mach_msg</c>: validate the message as XNU does, copy in the rights (as descriptors in
/// SCM_RIGHTS) and out-of-line memory (as sealed memfds), then send one datagram on this space's own connection
/// to the destination.
/// Rights named with a MOVE disposition are consumed only once the datagram is queued, so every failure leaves
/// the caller owning everything, as after a stage 1, 2 or 5 failure in XNU (mach-abi.md §5.5).
/// </summary>
internal sealed partial class LinuxKernel
{
    /// <summary><c>IPC_KMSG_MAX_BODY_SPACE</c>: the largest inline send (mach-abi.md §5.3).</summary>
    private const uint MaxSendSize = 50331580;

    [ThreadStatic]
    private static SendScratch? t_sendScratch;

    public unsafe MachMsgReturn MachMsg(byte* message, MachMsgOption options, uint sendSize, uint receiveLimit, uint receiveName, uint timeoutMilliseconds)
    {
        if ((options & MachMsgOption.SendMsg) != 0)
        {
            int sendTimeout = (options & MachMsgOption.SendTimeout) != 0 ? (int)Math.Min(timeoutMilliseconds, int.MaxValue) : -1;
            MachMsgReturn sent = Send(message, sendSize, sendTimeout);
            if (sent != MachMsgReturn.Success)
            {
                return sent;
            }
        }

        if ((options & MachMsgOption.ReceiveMsg) != 0)
        {
            int receiveTimeout = (options & MachMsgOption.ReceiveTimeout) != 0 ? (int)Math.Min(timeoutMilliseconds, int.MaxValue) : -1;
            return Receive(message, receiveLimit, receiveName, options, receiveTimeout);
        }

        return MachMsgReturn.Success;
    }

    private unsafe MachMsgReturn Send(byte* message, uint sendSize, int timeoutMilliseconds)
    {
        if (sendSize < Unsafe.SizeOf<MachMsgHeader>() || (sendSize & 3) != 0)
        {
            return MachMsgReturn.SendMsgTooSmall;
        }

        if (sendSize > MaxSendSize)
        {
            return MachMsgReturn.SendTooLarge;
        }

        SendScratch scratch = t_sendScratch ??= new SendScratch();
        byte[] wire = ArrayPool<byte>.Shared.Rent((int)sendSize);
        try
        {
            Span<byte> bytes = wire.AsSpan(0, (int)sendSize);
            new ReadOnlySpan<byte>(message, (int)sendSize).CopyTo(bytes);
            ref MachMsgHeader header = ref MemoryMarshal.AsRef<MachMsgHeader>(bytes);
            header.Size = sendSize; // the kernel takes the size from send_size (mach-abi.md §5.3)

            MachMsgReturn result = CopyIn(bytes, scratch, out PortEntry destinationEntry, out LinuxFd destination);
            if (result != MachMsgReturn.Success)
            {
                return result;
            }

            result = Transmit(destinationEntry, destination, bytes, scratch, timeoutMilliseconds);
            if (result == MachMsgReturn.Success)
            {
                ConsumeMovedRights(scratch);
            }
            else if (result == MachMsgReturn.SendTimedOut)
            {
                ReturnUnsent(message, sendSize, scratch);
            }

            return result;
        }
        finally
        {
            scratch.Reset();
            ArrayPool<byte>.Shared.Return(wire);
        }
    }

    /// <summary>Validates the message, resolves every right and memory region, and rewrites the buffer into wire form.</summary>
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
            destination = resolved.Send!;
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
                MachMsgReturn described = CopyInDescriptor(bytes[offset..], descriptor, scratch);
                if (described != MachMsgReturn.Success)
                {
                    return described;
                }

                offset += MachDescriptor.SizeOf(descriptor.Type);
            }
        }

        MachMsgReturn memory = CopyInMemory(scratch);
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

    private MachMsgReturn CopyInDescriptor(Span<byte> at, MachDescriptor descriptor, SendScratch scratch)
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
                    scratch.Regions.Add(new OutOfLineRegion(ool.Address, ool.Size, ool.Deallocate != 0));
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

    /// <summary>Turns each OOL region into a memfd; fills the reserved descriptor slots in order.</summary>
    private MachMsgReturn CopyInMemory(SendScratch scratch)
    {
        foreach (OutOfLineRegion region in scratch.Regions)
        {
            int error = PrepareOutOfLine(region.Address, region.Size, region.Deallocate, out LinuxFd? memfd);
            if (error != 0)
            {
                return error == Libc.EFAULT ? MachMsgReturn.SendInvalidMemory : MachMsgReturn.SendNoBuffer;
            }

            scratch.FillReservedFd(memfd!);
        }

        return MachMsgReturn.Success;
    }

    private MachMsgReturn Transmit(PortEntry destinationEntry, LinuxFd destination, ReadOnlySpan<byte> bytes, SendScratch scratch, int timeoutMilliseconds)
    {
        long deadline = timeoutMilliseconds < 0 ? long.MaxValue : Environment.TickCount64 + timeoutMilliseconds;
        while (true)
        {
            int error = SeqPacket.Send(destination.Number, bytes, scratch.FdNumbers);
            switch (error)
            {
                case 0:
                    return MachMsgReturn.Success;
                case Libc.EAGAIN:
                    int remaining = deadline == long.MaxValue ? -1 : (int)Math.Max(0, deadline - Environment.TickCount64);
                    if (remaining == 0 || SeqPacket.Wait(destination.Number, Libc.POLLOUT, -1, remaining) == 0)
                    {
                        return MachMsgReturn.SendTimedOut;
                    }

                    continue;
                case Libc.EPIPE or Libc.ECONNREFUSED or Libc.ECONNRESET or Libc.ENOTCONN:
                    OnDestinationDied(destinationEntry, destination);
                    return MachMsgReturn.SendInvalidDest;
                case Libc.EMSGSIZE:
                    return MachMsgReturn.SendTooLarge;
                default:
                    return MachMsgReturn.SendNoBuffer;
            }
        }
    }

    /// <summary>
    /// The send found the port dead: the entry becomes a dead name, unless another thread got there first. A port we
    /// receive on is alive; only our connection to it was dropped, and the next send connects again.
    /// </summary>
    private void OnDestinationDied(PortEntry entry, LinuxFd destination)
    {
        lock (_lock)
        {
            if (entry.Send != destination)
            {
                return;
            }

            if (entry.Receive is null)
            {
                MarkDead(entry);
            }
            else
            {
                StopMonitoring(entry);
                entry.Send.Dispose();
                entry.Send = null;
            }
        }
    }

    private void ConsumeMovedRights(SendScratch scratch)
    {
        lock (_lock)
        {
            foreach ((PortEntry entry, MachMsgTypeName disposition) in scratch.Carried)
            {
                switch (disposition)
                {
                    case MachMsgTypeName.MoveSend when entry.SendUrefs > 0:
                        entry.SendUrefs--;
                        break;
                    case MachMsgTypeName.MoveSendOnce:
                        entry.IsSendOnce = false;
                        break;
                    case MachMsgTypeName.MoveReceive when entry.Receive is not null:
                        ReleaseReceive(entry);
                        break;
                    default:
                        continue;
                }

                ReleaseIfUnused(entry);
            }
        }

        foreach (OutOfLineRegion region in scratch.Regions)
        {
            if (region.Deallocate)
            {
                _ = VmDeallocate(region.Address, region.Size);
            }
        }
    }

    /// <summary>Resolves the destination right (caller holds _lock); MOVE dispositions are remembered for consumption.</summary>
    private bool TryResolveSendable(uint name, MachMsgTypeName disposition, SendScratch scratch, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PortEntry? entry)
    {
        if (!_ports.TryGetValue(name, out entry) || !Holds(entry, disposition))
        {
            return false;
        }

        if (EnsureConnected(entry, out int error) is null)
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
    /// after it every holder's connection (<paramref name="connections"/> of them).
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
            foreach (LinuxFd connection in entry.Receive.Connections)
            {
                scratch.Hold(connection);
                connections++;
            }
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

    private readonly record struct OutOfLineRegion(ulong Address, uint Size, bool Deallocate);

    /// <summary>Per-thread lists reused by every send, so a send allocates nothing in steady state.</summary>
    private sealed class SendScratch
    {
        private readonly List<LinuxFd?> _held = [];
        private readonly List<LinuxFd> _ownedMemfds = [];
        private readonly List<int> _fdNumbers = [];

        public List<(PortEntry Entry, MachMsgTypeName Disposition)> Carried { get; } = [];

        public List<OutOfLineRegion> Regions { get; } = [];

        public int FdCount => _held.Count - 1; // the destination is held but not carried

        public ReadOnlySpan<int> FdNumbers => CollectionsMarshal.AsSpan(_fdNumbers);

        /// <summary>Keeps <paramref name="fd"/> open until <see cref="Reset"/>; all but the first (the destination) are carried.</summary>
        public void Hold(LinuxFd fd)
        {
            bool added = false;
            fd.DangerousAddRef(ref added);
            if (_held.Count > 0)
            {
                _fdNumbers.Add(fd.Number);
            }

            _held.Add(fd);
        }

        public void ReserveFd()
        {
            _held.Add(null);
            _fdNumbers.Add(-1);
        }

        /// <summary>Fills the next reserved slot with a memfd the scratch then owns.</summary>
        public void FillReservedFd(LinuxFd memfd)
        {
            int slot = _held.IndexOf(null);
            bool added = false;
            memfd.DangerousAddRef(ref added);
            _held[slot] = memfd;
            _fdNumbers[slot - 1] = memfd.Number;
            _ownedMemfds.Add(memfd);
        }

        public void Reset()
        {
            foreach (LinuxFd? fd in _held)
            {
                fd?.DangerousRelease();
            }

            foreach (LinuxFd memfd in _ownedMemfds)
            {
                memfd.Dispose();
            }

            _held.Clear();
            _ownedMemfds.Clear();
            _fdNumbers.Clear();
            Carried.Clear();
            Regions.Clear();
        }
    }
}
