namespace MachTransport.Mach.Linux;

/// <summary>A port set: an epoll instance over the receive ends of its members, plus an event that wakes its receivers.</summary>
internal sealed class PortSetEntry
{
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
