namespace MachTransport.Mach.Linux;

/// <summary>
/// A port set: an epoll instance over the receive ends of its members (keyed by port name), plus an event that wakes
/// its receivers, registered in the same epoll instance so that one wait serves both.
/// </summary>
internal sealed class PortSetEntry
{
    /// <summary>The epoll key of <see cref="WakeEvent"/>: no port name (32 bits) can equal it.</summary>
    public const ulong WakeKey = ulong.MaxValue;

    public PortSetEntry(uint name, LinuxFd epoll, LinuxFd wakeEvent)
    {
        Name = name;
        Epoll = epoll;
        WakeEvent = wakeEvent;
    }

    public uint Name { get; }

    public LinuxFd Epoll { get; }

    public LinuxFd WakeEvent { get; }

    public HashSet<uint> Members { get; } = [];
}
