using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Linux;
using Xunit;
using static MachTransport.Tests.MachLayer.MachTestMessages;

namespace MachTransport.Tests.MachLayer;

/// <summary>
/// Raw datagrams written straight to a port's send end, as a hostile process could: each malformed one yields an
/// error for that message only (with a bare header naming the port), every descriptor that came with it is closed,
/// and the port keeps working.
/// </summary>
[Trait("Category", "Hostile")]
[Collection(ProcessWideState.Name)]
public class HostileDatagramTests
{
    private const int FullySealed = Libc.F_SEAL_SHRINK | Libc.F_SEAL_GROW | Libc.F_SEAL_WRITE;
    private static readonly int HeaderSize = Unsafe.SizeOf<MachMsgHeader>();

    public static TheoryData<string> Cases => new()
    {
        "truncated header", "empty datagram", "size larger than datagram", "size smaller than datagram",
        "unknown header bits", "bad destination type", "reply marker without type", "local port set",
        "descriptor count lies", "unknown descriptor type", "bad port disposition",
        "descriptors attached but undeclared", "declared but missing", "pipe as a port right",
        "ool size beyond the memfd", "ool memfd not sealed", "ool memfd not write-sealed", "ool regular file", "ool marker without size",
    };

    [LinuxTheory]
    [MemberData(nameof(Cases))]
    public void AMalformedDatagramFailsAloneAndLeaksNothing(string malformation)
    {
        HashSet<string> beforePort = OpenFds();
        uint port = AllocatePort();
        try
        {
            using LinuxFd sendEnd = LinuxKernel.Instance.DuplicateSendEnd(port);

            // A well-formed message first: the port accepts this sender's connection and creates the event that wakes
            // its receivers. Count from after that.
            Assert.Equal(0, SeqPacket.Send(sendEnd.Number, Header(HeaderSize, MachMsgBits.Make(MachMsgTypeName.None, MachMsgTypeName.PortSend), id: 3), []));
            Assert.Equal(3, Receive(port).Header.Id);
            HashSet<string> baseline = OpenFds();
            (byte[] datagram, List<LinuxFd> attached) = Build(malformation);
            int[] numbers = attached.Select(fd => fd.Number).ToArray();
            Assert.Equal(0, SeqPacket.Send(sendEnd.Number, datagram, numbers));
            attached.ForEach(fd => fd.Dispose());

            ReceivedMessage message = Receive(port);
            Assert.Contains(message.Result.WithoutSpecialBits(), new[] { MachMsgReturn.ReceiveHeaderError, MachMsgReturn.ReceiveBodyError });
            Assert.Equal(port, message.Header.LocalPort);
            Assert.Equal((uint)HeaderSize, message.Header.Size);
            Assert.Equal(Environment.ProcessId, message.Trailer.Audit.Pid); // the trailer still says who sent it
            Assert.Empty(OpenedSince(baseline));

            Assert.Equal(MachMsgReturn.Success, Send(port, MachMsgTypeName.MakeSend, 42));
            Assert.Equal(42, Receive(port).Header.Id);
        }
        finally
        {
            Destroy(port);
        }

        Assert.Empty(OpenedSince(beforePort));
    }

    [LinuxFact]
    public void AWellFormedRawDatagramIsDelivered()
    {
        // The control case: the builder below produces what the emulation accepts when nothing is broken.
        uint port = AllocatePort();
        try
        {
            using (LinuxFd sendEnd = LinuxKernel.Instance.DuplicateSendEnd(port))
            {
                byte[] datagram = Header(HeaderSize, MachMsgBits.Make(MachMsgTypeName.None, MachMsgTypeName.PortSend), id: 7);
                Assert.Equal(0, SeqPacket.Send(sendEnd.Number, datagram, []));
            }

            ReceivedMessage message = Receive(port);
            Assert.Equal(MachMsgReturn.Success, message.Result);
            Assert.Equal(7, message.Header.Id);
        }
        finally
        {
            Destroy(port);
        }
    }

    private static (byte[] Datagram, List<LinuxFd> Attached) Build(string malformation)
    {
        uint simple = MachMsgBits.Make(MachMsgTypeName.None, MachMsgTypeName.PortSend);
        uint complex = MachMsgBits.Make(MachMsgTypeName.None, MachMsgTypeName.PortSend, complex: true);
        return malformation switch
        {
            "truncated header" => (new byte[10], []),
            "empty datagram" => ([], []),
            "size larger than datagram" => (Header(HeaderSize, simple, size: 100), []),
            "size smaller than datagram" => (Header(HeaderSize + 8, simple, size: (uint)HeaderSize), []),
            "unknown header bits" => (Header(HeaderSize, simple | 0x00400000), []),
            "bad destination type" => (Header(HeaderSize, MachMsgBits.Make(MachMsgTypeName.None, MachMsgTypeName.MakeSend)), []),
            "reply marker without type" => (Header(HeaderSize, simple, remote: 1), []),
            "local port set" => (Header(HeaderSize, simple, local: 0x1103), []),
            "descriptor count lies" => (Complex(complex, count: 5, descriptors: []), []),
            "unknown descriptor type" => (Complex(complex, 1, Descriptor(0, 0, 0, type: 7)), []),
            "bad port disposition" => (Complex(complex, 1, Port(1, MachMsgTypeName.MakeSend)), [SocketEnd()]),
            "descriptors attached but undeclared" => (Header(HeaderSize, simple), [SocketEnd(), SocketEnd()]),
            "declared but missing" => (Complex(complex, 1, Port(1, MachMsgTypeName.PortSend)), []),
            "pipe as a port right" => (Complex(complex, 1, Port(1, MachMsgTypeName.PortSend)), [Pipe()]),
            "ool size beyond the memfd" => (Complex(complex, 1, Ool(1, 1 << 20)), [Memfd(4096, FullySealed)]),
            "ool memfd not sealed" => (Complex(complex, 1, Ool(1, 4096)), [Memfd(4096, 0)]),
            "ool memfd not write-sealed" => (Complex(complex, 1, Ool(1, 4096)), [Memfd(4096, Libc.F_SEAL_SHRINK | Libc.F_SEAL_GROW)]),
            "ool regular file" => (Complex(complex, 1, Ool(1, 4096)), [RegularFile(4096)]),
            "ool marker without size" => (Complex(complex, 1, Ool(1, 0)), [Memfd(4096, FullySealed)]),
            _ => throw new ArgumentOutOfRangeException(nameof(malformation)),
        };
    }

    /// <summary>A well-formed datagram with no body.</summary>
    internal static byte[] Simple(int id) => Header(HeaderSize, MachMsgBits.Make(MachMsgTypeName.None, MachMsgTypeName.PortSend), id: id);

    /// <summary>A datagram declaring one send right, for one descriptor attached (whatever it really is).</summary>
    internal static byte[] OneSendRight()
        => Complex(MachMsgBits.Make(MachMsgTypeName.None, MachMsgTypeName.PortSend, complex: true), 1, Port(1, MachMsgTypeName.PortSend));

    private static byte[] Header(int length, uint bits, uint? size = null, uint remote = 0, uint local = 0, int id = 1)
    {
        byte[] bytes = new byte[length];
        var header = new MachMsgHeader { Bits = bits, Size = size ?? (uint)length, RemotePort = remote, LocalPort = local, Id = id };
        MemoryMarshal.Write(bytes, in header);
        return bytes;
    }

    private static byte[] Complex(uint bits, uint count, params byte[][] descriptors)
    {
        int length = HeaderSize + 4 + descriptors.Sum(d => d.Length);
        byte[] bytes = Header(length, bits);
        MemoryMarshal.Write(bytes.AsSpan(HeaderSize), count);
        int offset = HeaderSize + 4;
        foreach (byte[] descriptor in descriptors)
        {
            descriptor.CopyTo(bytes, offset);
            offset += descriptor.Length;
        }

        return bytes;
    }

    private static byte[] Port(uint name, MachMsgTypeName disposition)
    {
        byte[] bytes = new byte[12];
        MemoryMarshal.Write(bytes, MachMsgPortDescriptor.Create(name, disposition));
        return bytes;
    }

    private static byte[] Ool(ulong address, uint size)
    {
        byte[] bytes = new byte[16];
        MemoryMarshal.Write(bytes, MachMsgOolDescriptor.Create(address, size, false, MachMsgCopyOptions.VirtualCopy));
        return bytes;
    }

    private static byte[] Descriptor(uint word0, uint word1, ushort low, byte type)
    {
        byte[] bytes = new byte[16];
        MemoryMarshal.Write(bytes, word0);
        MemoryMarshal.Write(bytes.AsSpan(4), word1);
        MemoryMarshal.Write(bytes.AsSpan(8), low);
        bytes[11] = type;
        return bytes;
    }

    private static unsafe LinuxFd SocketEnd()
    {
        int* fds = stackalloc int[2];
        Assert.Equal(0, Libc.socketpair(Libc.AF_UNIX, Libc.SOCK_SEQPACKET | Libc.SOCK_CLOEXEC, 0, fds));
        _ = Libc.close(fds[0]);
        return new LinuxFd(fds[1]);
    }

    private static unsafe LinuxFd Pipe()
    {
        int* fds = stackalloc int[2];
        Assert.Equal(0, NativePipe.pipe2(fds, 0x80000));
        _ = Libc.close(fds[1]);
        return new LinuxFd(fds[0]);
    }

    private static LinuxFd Memfd(int size, int seals)
    {
        int fd = Libc.memfd_create("hostile", Libc.MFD_CLOEXEC | Libc.MFD_ALLOW_SEALING);
        Assert.True(fd >= 0);
        Assert.Equal(0, Libc.ftruncate(fd, size));
        Assert.Equal(0, Libc.fcntl(fd, Libc.F_ADD_SEALS, seals));
        return new LinuxFd(fd);
    }

    /// <summary>A file that cannot carry seals at all (F_GET_SEALS fails), which its writer could truncate under a mapping.</summary>
    private static LinuxFd RegularFile(int size)
    {
        string path = Path.Combine(Path.GetTempPath(), $"hostile-ool-{Guid.NewGuid():N}");
        int fd = Libc.open(path, Libc.O_RDWR | Libc.O_CREAT | Libc.O_CLOEXEC, 0x180);
        Assert.True(fd >= 0);
        _ = Libc.unlink(path);
        Assert.Equal(0, Libc.ftruncate(fd, size));
        return new LinuxFd(fd);
    }
}

internal static unsafe partial class NativePipe
{
    [LibraryImport("libc")]
    public static partial int pipe2(int* fds, int flags);
}
