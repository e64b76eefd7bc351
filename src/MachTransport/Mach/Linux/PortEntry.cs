using MachTransport.Mach.Abi;

namespace MachTransport.Mach.Linux;

/// <summary>
/// One name in the emulated IPC space and the rights it denotes: a receive right (the port's queue: its listener
/// and the holders' connections), send rights (user references over this space's own connection to the port),
/// a send-once right, or a dead name. Every right keeps the port's <c>O_PATH</c> descriptor, which is what travels
/// in a message and gives the port's identity (<see cref="PortIdentity"/>).
/// </summary>
internal sealed class PortEntry
{
    public PortEntry(uint name) => Name = name;

    public uint Name { get; }

    /// <summary>The port's queue; non-null while this task holds the receive right.</summary>
    public PortQueue? Receive { get; set; }

    /// <summary>The port's <c>O_PATH</c> descriptor: carried for any right to it, and connected through.</summary>
    public LinuxFd? Path { get; set; }

    /// <summary>This space's own connection to the port (send and send-once rights); made on first use when absent.</summary>
    public LinuxFd? Send { get; set; }

    /// <summary>The out-of-line ring this space made for <see cref="RingConnection"/> (LinuxKernel.Ring.cs), made on first use.</summary>
    public OolSendRing? Ring { get; set; }

    /// <summary>The connection <see cref="Ring"/> was made for: a new connection gets a new ring.</summary>
    public LinuxFd? RingConnection { get; set; }

    /// <summary>The port's identity (of <see cref="Path"/>).</summary>
    public PortIdentity PortId { get; set; }

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
