using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MachTransport.Mach.Abi;

namespace MachTransport.Mach.Linux;

/// <summary>
/// The send half of <c>mach_msg</c>: copy the message in (LinuxKernel.CopyIn.cs), send it as one datagram on this
/// space's own connection to the destination, then consume what it moved (or, after a timeout, give the caller its
/// message back: LinuxKernel.Unsent.cs).
/// Rights named with a MOVE disposition are consumed only once the datagram is queued, so every failure leaves
/// the caller owning everything, as after a stage 1, 2 or 5 failure in XNU (mach-abi.md §5.5).
/// </summary>
internal sealed partial class LinuxKernel
{
    /// <summary><c>IPC_KMSG_MAX_BODY_SPACE</c>: the largest inline send (mach-abi.md §5.3).</summary>
    private const uint MaxSendSize = 50331580;

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
                scratch.KeepRingRuns();
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

    private MachMsgReturn Transmit(PortEntry destinationEntry, LinuxFd destination, ReadOnlySpan<byte> bytes, SendScratch scratch, int timeoutMilliseconds)
    {
        long deadline = timeoutMilliseconds < 0 ? long.MaxValue : Environment.TickCount64 + timeoutMilliseconds;
        if (scratch.DestinationFull)
        {
            MachMsgReturn connected = ConnectWhenRoom(destinationEntry, destination, scratch, timeoutMilliseconds, out destination);
            if (connected != MachMsgReturn.Success)
            {
                return connected;
            }
        }

        while (true)
        {
            int error = SeqPacket.Send(destination.Number, bytes, scratch.FdNumbers);
            switch (error)
            {
                case 0:
                    return MachMsgReturn.Success;
                case Libc.EAGAIN:
                    int remaining = deadline == long.MaxValue ? -1 : (int)Math.Max(0, deadline - Environment.TickCount64);
                    if (remaining == 0 || Poll.Wait(destination.Number, Libc.POLLOUT, -1, remaining) == PollResult.TimedOut)
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
    /// The destination port was full when copy-in resolved it (<paramref name="path"/> is its <c>O_PATH</c>): connects
    /// once it has room, within the send's timeout, as a send to a full Mach queue waits (MACH_SEND_TIMED_OUT after it,
    /// the message still the sender's). The connection becomes this space's for the port, unless another thread's won.
    /// </summary>
    private MachMsgReturn ConnectWhenRoom(PortEntry entry, LinuxFd path, SendScratch scratch, int timeoutMilliseconds, out LinuxFd destination)
    {
        destination = path;
        int error = PortSocket.Connect(path.Number, out LinuxFd? connection, timeoutMilliseconds);
        lock (_lock)
        {
            if (error != 0)
            {
                if (IsDeadPortError(error) && entry.Path == path && entry.Send is null && entry.Receive is null)
                {
                    MarkDead(entry);
                }

                return error == Libc.EAGAIN ? MachMsgReturn.SendTimedOut : IsDeadPortError(error) ? MachMsgReturn.SendInvalidDest : MachMsgReturn.SendNoBuffer;
            }

            if (entry.Send is null && entry.Path == path)
            {
                entry.Send = connection;
            }
            else
            {
                connection!.Dispose();
            }

            if (entry.Send is not { } connected)
            {
                return MachMsgReturn.SendInvalidDest; // the right was released meanwhile
            }

            destination = connected;
            scratch.HoldDestination(connected);
            return MachMsgReturn.Success;
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
                DropRing(entry);
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
                        ReleaseReceive(entry, moved: true);
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
}
