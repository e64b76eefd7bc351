using System.Runtime.InteropServices;
using MachTransport.Mach.Abi;

namespace MachTransport.Mach.Linux;

/// <summary>
/// Dead-name notifications: the request, detecting a port's death (EPOLLHUP / EPIPE on this space's connection to it),
/// and delivery, which waits for room rather than dropping a notification to a full port.
/// </summary>
internal sealed partial class LinuxKernel
{
    /// <summary>
    /// Marks a message as sent by the emulated kernel (in the voucher field, which user sends always carry as 0 on
    /// the wire). Honoured only when SCM_CREDENTIALS says the sender is this very process, so no peer can forge it.
    /// </summary>
    private const uint KernelOriginMarker = 0x4B45524E;

    /// <summary><c>MACH_PORT_QLIMIT_KERNEL</c>: even exempt (send-once) messages stop there (mach-abi.md §5.6).</summary>
    private const int KernelQueueLimit = 65534;

    public KernReturn RequestNotification(uint name, int msgId, uint sync, uint notify, MachMsgTypeName notifyPoly, out uint previous)
    {
        previous = MachPort.Null;
        if (msgId is MachNotifyId.PortDestroyed or MachNotifyId.NoSenders or MachNotifyId.SendPossible)
        {
            return KernReturn.NotSupported;
        }

        if (msgId != MachNotifyId.DeadName)
        {
            return KernReturn.InvalidValue;
        }

        lock (_lock)
        {
            if (!_ports.TryGetValue(name, out PortEntry? entry))
            {
                return KernReturn.InvalidName;
            }

            if (notify != MachPort.Null
                && (notifyPoly != MachMsgTypeName.MakeSendOnce || !_ports.TryGetValue(notify, out PortEntry? notifyEntry) || notifyEntry.Receive is null))
            {
                return KernReturn.InvalidCapability;
            }

            if (entry.IsDead)
            {
                if (notify == MachPort.Null || sync == 0)
                {
                    return KernReturn.InvalidArgument;
                }

                entry.DeadUrefs++;
                PostNotification(notify, MachNotifyId.DeadName, name);
                return KernReturn.Success;
            }

            if (entry.DeadNameNotify != 0 && _ports.TryGetValue(entry.DeadNameNotify, out PortEntry? old) && old.Receive is not null)
            {
                if (NewSendOnce(old) is not { } once)
                {
                    return KernReturn.ResourceShortage;
                }

                previous = once.Name;
            }

            entry.DeadNameNotify = notify;
            StopMonitoring(entry);
            if (notify != MachPort.Null && entry.Receive is null)
            {
                // The port's death shows as a hang-up on this space's own connection to it.
                if (EnsureConnected(entry, out int error) is not { } connection)
                {
                    if (IsDeadPortError(error))
                    {
                        MarkDead(entry);
                    }

                    return KernReturn.Success;
                }

                ulong key = 0;
                key = _kernelThread.Watch(connection, 0, () => OnSendEndHangUp(entry, key));
                entry.MonitorKey = key;
            }

            return KernReturn.Success;
        }
    }

    private void OnSendEndHangUp(PortEntry entry, ulong key)
    {
        lock (_lock)
        {
            if (entry.MonitorKey == key && _ports.TryGetValue(entry.Name, out PortEntry? current) && current == entry)
            {
                MarkDead(entry);
            }
        }
    }

    /// <summary>The port behind <paramref name="entry"/> died: its send rights become dead-name references (caller holds _lock).</summary>
    private void MarkDead(PortEntry entry)
    {
        uint refs = entry.SendUrefs + (entry.IsSendOnce ? 1u : 0u);
        if (refs == 0)
        {
            return;
        }

        DetachSend(entry);
        entry.SendUrefs = 0;
        entry.IsSendOnce = false;
        entry.DeadUrefs += refs;
        if (entry.DeadNameNotify != 0)
        {
            // The delivered notification carries one more reference on the dead name (mach-abi.md §7.3).
            entry.DeadUrefs++;
            PostNotification(entry.DeadNameNotify, MachNotifyId.DeadName, entry.Name);
            entry.DeadNameNotify = 0;
        }
    }

    private void StopMonitoring(PortEntry entry)
    {
        if (entry.MonitorKey != 0)
        {
            _kernelThread.Unwatch(entry.MonitorKey, entry.Send!);
            entry.MonitorKey = 0;
        }
    }

    /// <summary>Drops a pending dead-name request; Mach answers it with a port-deleted notification.</summary>
    private void CancelDeadNameRequest(PortEntry entry, bool sendPortDeleted)
    {
        if (entry.DeadNameNotify != 0)
        {
            if (sendPortDeleted)
            {
                PostNotification(entry.DeadNameNotify, MachNotifyId.PortDeleted, entry.Name);
            }

            entry.DeadNameNotify = 0;
        }

        StopMonitoring(entry);
    }

    private void PostNotification(uint notifyPort, int id, uint subject)
        => _kernelThread.Post(() => DeliverNotification(notifyPort, id, subject));

    /// <summary>
    /// Sends a <c>mach_dead_name_notification_t</c>-shaped message to a send-once right made from <paramref name="notifyPort"/>
    /// (on the kernel thread). Mach exempts messages to send-once rights from the queue limit (mach-abi.md §5.6), so a
    /// notification to a full port is never dropped: it waits, in order, until the port has room, without blocking
    /// this thread.
    /// </summary>
    private unsafe void DeliverNotification(uint notifyPort, int id, uint subject)
    {
        LinuxFd? target;
        PortIdentity portId;
        lock (_lock)
        {
            target = _ports.TryGetValue(notifyPort, out PortEntry? entry) && entry.Receive is not null ? EnsureConnected(entry, out _) : null;
            if (target is null)
            {
                return;
            }

            portId = entry!.PortId;
            bool added = false;
            target.DangerousAddRef(ref added);
        }

        try
        {
            var message = new MachDeadNameNotification
            {
                Header = new MachMsgHeader
                {
                    // Wire form: LOCAL holds the type of right the message was sent to (send-once), no reply.
                    Bits = MachMsgBits.Make(MachMsgTypeName.None, MachMsgTypeName.PortSendOnce),
                    Size = (uint)sizeof(MachDeadNameNotification),
                    VoucherPort = KernelOriginMarker,
                    Id = id,
                },
                Ndr = NdrRecord.Native,
                NotPort = subject,
            };
            ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<MachDeadNameNotification>(in message));
            if (_pendingNotifications.TryGetValue(portId, out PendingNotifications? pending))
            {
                if (pending.Messages.Count < KernelQueueLimit)
                {
                    pending.Messages.Enqueue(bytes.ToArray());
                }
            }
            else if (SeqPacket.Send(target.Number, bytes, []) == Libc.EAGAIN)
            {
                HoldUntilRoom(portId, target, bytes.ToArray());
            }
        }
        finally
        {
            target.DangerousRelease();
        }
    }

    /// <summary>Keeps a notification for a full port and watches (a descriptor of) our connection to it for room.</summary>
    private void HoldUntilRoom(PortIdentity portId, LinuxFd target, byte[] message)
    {
        int fd = Libc.dup(target.Number);
        if (fd < 0)
        {
            return; // no descriptor to watch with: the one case a notification is lost
        }

        var pending = new PendingNotifications(new LinuxFd(fd));
        pending.Messages.Enqueue(message);
        _pendingNotifications.Add(portId, pending);
        pending.WatchKey = _kernelThread.Watch(pending.SendEnd, Libc.EPOLLOUT, () => FlushNotifications(portId, pending));
    }

    /// <summary>On the kernel thread: sends what fits; stops watching once all went out or the port died.</summary>
    private void FlushNotifications(PortIdentity portId, PendingNotifications pending)
    {
        while (pending.Messages.TryPeek(out byte[]? next))
        {
            int error = SeqPacket.Send(pending.SendEnd.Number, next, []);
            if (error == Libc.EAGAIN)
            {
                return;
            }

            if (error != 0)
            {
                break; // the port died: its queue, and these notifications, go with it
            }

            _ = pending.Messages.Dequeue();
        }

        _kernelThread.Unwatch(pending.WatchKey, pending.SendEnd);
        pending.SendEnd.Dispose();
        _ = _pendingNotifications.Remove(portId);
    }

    /// <summary>Notifications waiting for room in one port's queue (kernel thread only).</summary>
    private sealed class PendingNotifications
    {
        public PendingNotifications(LinuxFd sendEnd) => SendEnd = sendEnd;

        public LinuxFd SendEnd { get; }

        public Queue<byte[]> Messages { get; } = new();

        public ulong WatchKey { get; set; }
    }
}
