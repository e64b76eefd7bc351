// Makes the descriptors of an FdSpec for one send. Port rights come from the worker's own ports (a ring of live
// ports it destroys in turn, so the server's connections to them end); everything else is made fresh and closed
// by the caller once the datagram is sent (the server then holds the only copy).
using System.Runtime.InteropServices;
using MachTransport.Mach;
using MachTransport.Mach.Linux;
using MachTransport.Mach.Rights;

namespace MachTransport.Fuzz;

internal sealed unsafe partial class FdFactory : IDisposable
{
    private const int AfInet = 2;
    private const int SockStream = 1;
    private const int OPath = 0x200000;
    private const int LivePortsKept = 16;

    private readonly IMachKernel _kernel;
    private readonly uint _service;
    private readonly Queue<MachReceiveRight> _livePorts = new();

    public FdFactory(IMachKernel kernel, uint service)
    {
        _kernel = kernel;
        _service = service;
    }

    /// <summary>The server's port of the worker's current connection (0: none).</summary>
    public uint ConnectionPort { get; set; }

    /// <summary>Live ports the fuzzer made so far.</summary>
    public long PortsMade { get; private set; }

    /// <summary>Appends the descriptor(s) for <paramref name="spec"/> to <paramref name="fds"/> (nothing when one cannot be made).</summary>
    public void Create(FdSpec spec, List<int> fds)
    {
        int fd = spec.Kind switch
        {
            FdKind.LivePort => LivePort(),
            FdKind.DeadPort => DeadPort(),
            FdKind.ServicePort => Path(_service),
            FdKind.ConnectionPort => ConnectionPort != 0 ? Path(ConnectionPort) : LivePort(),
            FdKind.SealedMemfd => Memfd(spec.Size, Libc.F_SEAL_SHRINK | Libc.F_SEAL_GROW | Libc.F_SEAL_WRITE),
            FdKind.UnsealedMemfd => Memfd(spec.Size, 0),
            FdKind.WritableMemfd => Memfd(spec.Size, Libc.F_SEAL_SHRINK | Libc.F_SEAL_GROW),
            FdKind.RegularFile => RegularFile(spec.Size),
            FdKind.PipeEnd => PipeEnd(),
            FdKind.EventFd => Libc.eventfd(0, Libc.EFD_CLOEXEC),
            FdKind.Epoll => Libc.epoll_create1(Libc.EPOLL_CLOEXEC),
            FdKind.DevNull => Libc.open("/dev/null", Libc.O_RDWR | Libc.O_CLOEXEC, 0),
            FdKind.PathOfDevNull => Libc.open("/dev/null", OPath | Libc.O_CLOEXEC, 0),
            FdKind.UnixStream => SocketPairEnd(SockStream),
            FdKind.UnixDatagram => SocketPairEnd(Libc.SOCK_DGRAM),
            FdKind.SeqPacketEnd => SocketPairEnd(Libc.SOCK_SEQPACKET),
            FdKind.ForeignListener => ForeignListener(),
            FdKind.TcpSocket => Libc.socket(AfInet, SockStream | Libc.SOCK_CLOEXEC, 0),
            _ => Libc.socket(AfInet, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0),
        };

        if (fd >= 0)
        {
            fds.Add(fd);
        }
    }

    /// <summary>Destroys every live port still kept: the server sees their death and releases what it holds for them.</summary>
    public void ReleasePorts()
    {
        while (_livePorts.TryDequeue(out MachReceiveRight? port))
        {
            port.Dispose();
        }
    }

    public void Dispose() => ReleasePorts();

    private int LivePort()
    {
        MachReceiveRight port = MachReceiveRight.Allocate(_kernel);
        PortsMade++;
        _livePorts.Enqueue(port);
        if (_livePorts.Count > LivePortsKept)
        {
            _livePorts.Dequeue().Dispose();
        }

        return Path(port.Name);
    }

    private int DeadPort()
    {
        using MachReceiveRight port = MachReceiveRight.Allocate(_kernel);
        return Path(port.Name);
    }

    private static int Path(uint name)
    {
        using LinuxFd path = LinuxKernel.Instance.DuplicatePath(name);
        return path.IsInvalid ? -1 : Libc.dup(path.Number);
    }

    private static int Memfd(long size, int seals)
    {
        int fd = Libc.memfd_create("fuzz", Libc.MFD_CLOEXEC | Libc.MFD_ALLOW_SEALING);
        if (fd >= 0 && (Libc.ftruncate(fd, size) != 0 || (seals != 0 && Libc.fcntl(fd, Libc.F_ADD_SEALS, seals) != 0)))
        {
            _ = Libc.close(fd);
            return -1;
        }

        return fd;
    }

    private static int RegularFile(long size)
    {
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"machfuzz-{Guid.NewGuid():N}");
        int fd = Libc.open(path, Libc.O_RDWR | Libc.O_CREAT | Libc.O_CLOEXEC, 0x180);
        _ = Libc.unlink(path);
        if (fd >= 0 && Libc.ftruncate(fd, size) != 0)
        {
            _ = Libc.close(fd);
            return -1;
        }

        return fd;
    }

    private static int PipeEnd()
    {
        int* fds = stackalloc int[2];
        if (Pipe2(fds, Libc.O_CLOEXEC) != 0)
        {
            return -1;
        }

        _ = Libc.close(fds[1]);
        return fds[0];
    }

    private static int SocketPairEnd(int type)
    {
        int* fds = stackalloc int[2];
        if (Libc.socketpair(Libc.AF_UNIX, type | Libc.SOCK_CLOEXEC, 0, fds) != 0)
        {
            return -1;
        }

        _ = Libc.close(fds[0]);
        return fds[1];
    }

    private static int ForeignListener()
    {
        if (PortSocket.Create(out LinuxFd listener, out LinuxFd path) != 0)
        {
            return -1;
        }

        path.Dispose();
        int fd = Libc.dup(listener.Number);
        listener.Dispose();
        return fd;
    }

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    private static partial int Pipe2(int* fds, int flags);
}
