using MachTransport.Mach.Abi;

namespace MachTransport.Mach.Linux;

/// <summary>
/// Mach IPC emulated in user space for Linux. It plays the kernel's part for this process: an IPC space
/// (names → rights) over SOCK_SEQPACKET sockets (a listener per port, a connection per holder), copy-in of rights
/// and out-of-line memory on send, copy-out with names, mapped memory and a trailer on receive, dead-name
/// notifications and a bootstrap namespace. See docs/linux-emulation.md for the mapping and its limits.
/// This file holds all of the kernel's state and <c>mach_msg</c>; each partial file beside it does one job.
/// </summary>
internal sealed partial class LinuxKernel : IMachKernel
{
    private static readonly int s_ownPid = Libc.getpid();

    [ThreadStatic]
    private static SendScratch? t_sendScratch;

    [ThreadStatic]
    private static List<int>? t_receivedFds;

    private readonly object _lock = new();
    private readonly Dictionary<uint, PortEntry> _ports = [];
    private readonly Dictionary<uint, PortSetEntry> _portSets = [];
    private readonly Dictionary<PortIdentity, PortEntry> _byPortId = [];
    private readonly HolderCounts _holders = new();
    private readonly LinuxBootstrap _bootstrap;
    private readonly KernelThread _kernelThread;

    // By port identity; touched on the kernel thread only.
    private readonly Dictionary<PortIdentity, PendingNotifications> _pendingNotifications = [];

    // Memfd-backed regions from VmAllocate, by address; locked on itself.
    private readonly Dictionary<ulong, (LinuxFd Memfd, ulong Size)> _regions = [];
    private readonly ReceivedRegionPool _receivedRegions;
    private uint _nextNameIndex;

    private LinuxKernel()
    {
        PageSize = Environment.SystemPageSize;
        _receivedRegions = new ReceivedRegionPool(PageSize);
        _kernelThread = new KernelThread();
        _bootstrap = new LinuxBootstrap(this, _kernelThread);
    }

    public static LinuxKernel Instance { get; } = new();

    private int PageSize { get; }

    /// <summary>Names in use (ports and port sets): tests compare it before and after to find leaked rights.</summary>
    public int NameCount
    {
        get
        {
            lock (_lock)
            {
                return _ports.Count + _portSets.Count;
            }
        }
    }

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
}
