using System.Runtime.InteropServices;
using MachTransport.Mach.Abi;

namespace MachTransport.Mach.Linux;

/// <summary>Dead-name detection (EPOLLHUP / EPIPE on a send end) and notification delivery.</summary>
internal sealed partial class LinuxKernel
{
    /// <summary>
    /// Marks a message as sent by the emulated kernel (in the voucher field, which user sends always carry as 0 on
    /// the wire). Honoured only when SCM_CREDENTIALS says the sender is this very process, so no peer can forge it.
    /// </summary>
    private const uint KernelOriginMarker = 0x4B45524E;

    private readonly KernelThread _kernelThread;

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
                if (NewSendOnce(old.Send!) is not { } once)
                {
                    return KernReturn.ResourceShortage;
                }

                previous = once.Name;
            }

            entry.DeadNameNotify = notify;
            StopMonitoring(entry);
            if (notify != MachPort.Null && entry.Receive is null && entry.Send is not null)
            {
                ulong key = 0;
                key = _kernelThread.Watch(entry.Send, 0, () => OnSendEndHangUp(entry, key));
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

    /// <summary>Sends a <c>mach_dead_name_notification_t</c>-shaped message to a send-once right made from <paramref name="notifyPort"/>.</summary>
    private unsafe void DeliverNotification(uint notifyPort, int id, uint subject)
    {
        LinuxFd? target;
        lock (_lock)
        {
            target = _ports.TryGetValue(notifyPort, out PortEntry? entry) && entry.Receive is not null ? entry.Send : null;
            if (target is null)
            {
                return;
            }

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
            // Notifications go to send-once rights, which Mach exempts from the queue limit: wait for room, bounded.
            for (int attempt = 0; attempt < 50 && SeqPacket.Send(target.Number, bytes, []) == Libc.EAGAIN; attempt++)
            {
                _ = SeqPacket.Wait(target.Number, Libc.POLLOUT, -1, 100);
            }
        }
        finally
        {
            target.DangerousRelease();
        }
    }
}
