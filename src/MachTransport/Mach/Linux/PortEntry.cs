using MachTransport.Mach.Abi;

namespace MachTransport.Mach.Linux;

/// <summary>
/// One name in the emulated IPC space and the rights it denotes: a receive right (the receive end of a
/// SEQPACKET socketpair), send rights (user references over one send-end descriptor), a send-once right,
/// or a dead name. A port's identity is the socket cookie of its send end: every holder of a send right to
/// the same port shares that socket, so rights to one port arriving twice merge under one name, as in Mach.
/// </summary>
internal sealed class PortEntry
{
    public PortEntry(uint name) => Name = name;

    public uint Name { get; }

    /// <summary>Receive end; non-null while this task holds the receive right.</summary>
    public LinuxFd? Receive { get; set; }

    /// <summary>Send end: for send rights, send-once rights and (with the receive right) make-send.</summary>
    public LinuxFd? Send { get; set; }

    /// <summary>Socket cookie of <see cref="Send"/>: the port's identity.</summary>
    public ulong PortId { get; set; }

    public uint SendUrefs { get; set; }

    public bool IsSendOnce { get; set; }

    /// <summary>User references of the dead name this entry became when its port died.</summary>
    public uint DeadUrefs { get; set; }

    public uint QueueLimit { get; set; } = MachPort.QueueLimitDefault;

    public uint Seqno { get; set; }

    /// <summary>The port set this receive right is a member of.</summary>
    public PortSetEntry? Set { get; set; }

    /// <summary>Receive right of the port to notify when this port dies (0: no request).</summary>
    public uint DeadNameNotify { get; set; }

    /// <summary>Key of this entry's registration with the kernel thread's epoll (0: none).</summary>
    public ulong MonitorKey { get; set; }

    /// <summary>The bootstrap service this receive right was checked in as.</summary>
    public BootstrapRegistration? Service { get; set; }

    /// <summary>Wakes receivers blocked on this port when the receive right goes away (created on first blocking receive).</summary>
    public LinuxFd? WakeEvent { get; set; }

    public bool IsDead => DeadUrefs > 0;

    public bool IsUnused => Receive is null && SendUrefs == 0 && !IsSendOnce && DeadUrefs == 0;

    public MachPortType Type =>
        (Receive is not null ? MachPortType.Receive : 0)
        | (SendUrefs > 0 ? MachPortType.Send : 0)
        | (IsSendOnce ? MachPortType.SendOnce : 0)
        | (IsDead ? MachPortType.DeadName : 0)
        | (DeadNameNotify != 0 ? MachPortType.DeadNameRequest : 0);
}
