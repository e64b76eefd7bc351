using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MachTransport.Mach.Abi;

namespace MachTransport.Mach.Linux;

/// <summary>
/// The receive half of <c>mach_msg</c>: wait for a port (or any member of a port set), take one datagram from it,
/// copy it out (LinuxKernel.CopyOut.cs) and append the requested trailer with the sender's credentials.
/// A malformed datagram yields <see cref="MachMsgReturn.ReceiveHeaderError"/> or <see cref="MachMsgReturn.ReceiveBodyError"/>
/// with a bare header naming the port, and every descriptor that arrived with it is closed.
/// </summary>
internal sealed partial class LinuxKernel
{
    /// <summary>How often a receive without a wake event (none could be created) checks whether its port still exists.</summary>
    private const int WakelessSliceMilliseconds = 100;

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
                wake = port.WakeEvent ??= Poll.CreateWakeEvent(); // null with the descriptor table full: waits in slices
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
            return set is not null
                ? ReceiveFromSet(set, waitable, buffer, limit, trailerSize, options, deadline)
                : ReceiveFromPort(port!, waitable, wake, buffer, limit, trailerSize, options, deadline);
        }
        finally
        {
            waitable.DangerousRelease();
            wake?.DangerousRelease();
        }
    }

    private static int Remaining(long deadline) => deadline == long.MaxValue ? -1 : (int)Math.Max(0, deadline - Environment.TickCount64);

    private unsafe MachMsgReturn ReceiveFromPort(PortEntry port, LinuxFd waitable, LinuxFd? wake, byte* buffer, uint limit, int trailerSize, MachMsgOption options, long deadline)
    {
        bool waited = false;
        while (true)
        {
            if (!IsReceivable(port, null))
            {
                return MachMsgReturn.ReceivePortChanged;
            }

            if (TryReceiveFrom(port, buffer, limit, trailerSize, options, askEpoll: waited) is { } result)
            {
                return result;
            }

            int remaining = Remaining(deadline);
            if (remaining == 0)
            {
                return MachMsgReturn.ReceiveTimedOut;
            }

            int slice = wake is null && (uint)remaining > WakelessSliceMilliseconds ? WakelessSliceMilliseconds : remaining;
            PollResult ready = Poll.Wait(waitable.Number, Libc.POLLIN, wake?.Number ?? -1, slice);
            waited = true;
            if (ready == PollResult.Woken || !IsReceivable(port, null))
            {
                return MachMsgReturn.ReceivePortChanged;
            }

            if (ready == PollResult.TimedOut && slice == remaining)
            {
                return MachMsgReturn.ReceiveTimedOut;
            }
        }
    }

    /// <summary>
    /// One <c>epoll_wait</c> on the set both waits and names the member with a message (the set's wake event is one
    /// of its registrations): a message that finds the receiver idle costs that call, the peek and the read.
    /// </summary>
    private unsafe MachMsgReturn ReceiveFromSet(PortSetEntry set, LinuxFd waitable, byte* buffer, uint limit, int trailerSize, MachMsgOption options, long deadline)
    {
        while (true)
        {
            int remaining = Remaining(deadline);
            if (!Epoll.Wait(waitable.Number, remaining, out ulong key, out _))
            {
                if (Remaining(deadline) == 0)
                {
                    return MachMsgReturn.ReceiveTimedOut;
                }

                continue; // woke before the deadline by the clock: wait out the rest
            }

            if (key == PortSetEntry.WakeKey || !IsLive(set))
            {
                return MachMsgReturn.ReceivePortChanged;
            }

            PortEntry? member = MemberOf(set, (uint)key);
            if (member is not null && IsReceivable(member, set)
                && TryReceiveFrom(member, buffer, limit, trailerSize, options, askEpoll: true) is { } result && result != MachMsgReturn.ReceivePortChanged)
            {
                return result;
            }
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

    private PortEntry? MemberOf(PortSetEntry set, uint name)
    {
        lock (_lock)
        {
            return _ports.TryGetValue(name, out PortEntry? entry) && entry.Set == set ? entry : null;
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

    /// <summary>One attempt on one connection; null when it had nothing for us after all (taken by another receiver, or end-of-file).</summary>
    private unsafe MachMsgReturn? TryReceiveOn(PortEntry entry, PortQueue queue, ulong key, LinuxFd receive, byte* buffer, uint limit, int trailerSize, MachMsgOption options)
    {
        List<int> fds = t_receivedFds ??= [];
        int sender = DeferredClose.NoOwner;
        try
        {
            int capacity = (int)limit - trailerSize;
            if ((options & MachMsgOption.ReceiveLarge) != 0)
            {
                DatagramRead pending = SeqPacket.PeekLength(receive.Number);
                if (pending.IsEmpty)
                {
                    return null;
                }

                if (pending.Length > capacity)
                {
                    // MACH_RCV_LARGE: the message stays queued; only msgh_size (and with LARGE_IDENTITY the port) is written.
                    ref MachMsgHeader partial = ref Unsafe.AsRef<MachMsgHeader>(buffer);
                    partial.Size = (uint)pending.Length;
                    if ((options & MachMsgOption.ReceiveLargeIdentity) != 0)
                    {
                        partial.LocalPort = entry.Name;
                    }

                    return MachMsgReturn.ReceiveTooLarge;
                }
            }

            if (DeferredClose.Pending > 0 && !MayInstallDescriptors(receive.Number))
            {
                // Not read: its descriptors stay in the kernel, charged to its sender, and that holder's connection goes.
                DropConnection(entry, queue, key, receive);
                return null;
            }

            Span<byte> control = stackalloc byte[SeqPacket.ReceiveControlSize];
            var message = new Span<byte>(buffer, capacity);
            DatagramRead read = SeqPacket.Receive(receive.Number, message, control, fds, out Libc.UCred credentials, out bool hasCredentials, out int flags);
            if (read.IsEmpty)
            {
                return null;
            }

            sender = hasCredentials ? credentials.Pid : DeferredClose.NoOwner;
            nint length = read.Length;
            if (read.Failed || (length == 0 && fds.Count == 0 && SeqPacket.PeerShutDown(receive.Number)))
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
                DeferredClose.CloseAll(fds, sender);
                result = MachMsgReturn.ReceiveTooLarge;
                messageSize = WriteBareHeader(message, entry.Name, (uint)length);
            }
            else
            {
                bool fromKernel = false;
                result = (flags & Libc.MSG_CTRUNC) != 0
                    ? MachMsgReturn.ReceiveBodyError
                    : CopyOut(message[..(int)length], entry.Name, fds, hasCredentials && credentials.Pid == s_ownPid, new RingSource(queue, key), out fromKernel);
                DeferredClose.CloseAll(fds, sender);
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
            DeferredClose.CloseAll(fds, sender);
        }
    }

    /// <summary>
    /// While closes are pending (some may be held up by their senders), whether the next datagram on
    /// <paramref name="connection"/> may be read: one without descriptors always; one with descriptors only while its
    /// sender's pending closes leave room for a full datagram more within <see cref="DescriptorBudget.PendingClosesPerSender"/>
    /// and the descriptor table has room for it above the reserve.
    /// </summary>
    private static bool MayInstallDescriptors(int connection)
        => !SeqPacket.PeekCarriesDescriptors(connection, out int sender)
            || (DeferredClose.PendingOf(sender) + Libc.ScmMaxFd <= DescriptorBudget.PendingClosesPerSender && DescriptorBudget.HasRoom(Libc.ScmMaxFd));

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
