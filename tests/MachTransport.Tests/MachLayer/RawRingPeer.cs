using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Linux;
using MachTransport.Mach.Messages;
using Xunit;
using static MachTransport.Tests.MachLayer.MachTestMessages;

namespace MachTransport.Tests.MachLayer;

/// <summary>
/// What a hostile sender does with the Linux emulation's OOL ring, raw (docs/linux-emulation.md, "Out-of-line memory"):
/// datagrams naming runs of a ring it made, and reading what the receiver copied out. Shared by the ring's tests and
/// the attacks on it.
/// </summary>
internal static unsafe class RawRingPeer
{
    private static readonly int HeaderSize = Unsafe.SizeOf<MachMsgHeader>();

    /// <summary>A well-formed run through <paramref name="ring"/> is still delivered whole on <paramref name="port"/>.</summary>
    public static void AssertServes(uint port, LinuxFd sendEnd, HostileRing ring)
    {
        byte[] payload = Pattern(100, 42);
        ring.Put(1, payload);
        Assert.Equal(0, SendRun(sendEnd, ring.Fd, 1, (uint)payload.Length));
        ReceivedMessage received = Receive(port);
        Assert.Equal(MachMsgReturn.Success, received.Result);
        Assert.True(Bytes(received).SequenceEqual(payload));
        Release(received);
    }

    /// <summary>The receiver's copy of the one OOL region in <paramref name="message"/>.</summary>
    public static ReadOnlySpan<byte> Bytes(ReceivedMessage message)
    {
        MachDescriptor descriptor = Assert.Single(message.Descriptors);
        return new ReadOnlySpan<byte>((void*)descriptor.Address, (int)descriptor.Size);
    }

    /// <summary>Gives the receiver's copy of the one OOL region in <paramref name="message"/> back.</summary>
    public static void Release(ReceivedMessage message)
    {
        MachDescriptor descriptor = Assert.Single(message.Descriptors);
        Assert.Equal(KernReturn.Success, Kernel.VmDeallocate(descriptor.Address, descriptor.Size));
    }

    public static byte[] Pattern(int length, byte seed)
    {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)((i * 31) + seed);
        }

        return bytes;
    }

    /// <summary>
    /// A raw datagram with one OOL descriptor naming a run, with <paramref name="ringFd"/> attached, or nothing (the run is
    /// then named as one in the ring the connection already delivered); 0 or the send's error.
    /// </summary>
    public static int SendRun(LinuxFd sendEnd, LinuxFd? ringFd, uint firstChunk, uint size)
        => SendRun(sendEnd, ringFd, firstChunk, size, attachedTag: ringFd is not null);

    /// <summary>As above, with the descriptor's tag saying the ring is attached or not, whatever is attached.</summary>
    public static int SendRun(LinuxFd sendEnd, LinuxFd? ringFd, uint firstChunk, uint size, bool attachedTag)
    {
        byte[] datagram = new byte[HeaderSize + 4 + 16];
        var header = new MachMsgHeader
        {
            Bits = MachMsgBits.Make(MachMsgTypeName.None, MachMsgTypeName.PortSend, complex: true),
            Size = (uint)datagram.Length,
            Id = 1,
        };
        MemoryMarshal.Write(datagram, in header);
        MemoryMarshal.Write(datagram.AsSpan(HeaderSize), 1u);
        MemoryMarshal.Write(datagram.AsSpan(HeaderSize + 4), MachMsgOolDescriptor.Create(OolRing.WireAddress(firstChunk, attachedTag), size, false, MachMsgCopyOptions.VirtualCopy));
        return SeqPacket.Send(sendEnd.Number, datagram, ringFd is null ? [] : [ringFd.Number]);
    }
}

/// <summary>A ring as a hostile sender makes it (sealed against shrinking and growing, of the ring's size, mode 0), mapped to rewrite at will.</summary>
internal sealed unsafe class HostileRing : IDisposable
{
    private readonly byte* _mapping;

    private HostileRing(LinuxFd fd, byte* mapping)
    {
        Fd = fd;
        _mapping = mapping;
    }

    public LinuxFd Fd { get; }

    public static HostileRing Create()
    {
        int fd = Libc.memfd_create("hostile-ring", Libc.MFD_CLOEXEC | Libc.MFD_ALLOW_SEALING);
        Assert.True(fd >= 0);
        Assert.Equal(0, Libc.fchmod(fd, 0));
        Assert.Equal(0, Libc.ftruncate(fd, OolRing.FileSize));
        Assert.Equal(0, Libc.fcntl(fd, Libc.F_ADD_SEALS, Libc.F_SEAL_SHRINK | Libc.F_SEAL_GROW));
        void* mapping = Libc.mmap(null, (nuint)OolRing.FileSize, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, fd, 0);
        Assert.True(mapping != (void*)-1);
        return new HostileRing(new LinuxFd(fd), (byte*)mapping);
    }

    /// <summary>Writes <paramref name="payload"/> at <paramref name="firstChunk"/> and marks its chunks in flight.</summary>
    public void Put(uint firstChunk, ReadOnlySpan<byte> payload)
    {
        payload.CopyTo(new Span<byte>(_mapping + OolRing.DataOffset(firstChunk), payload.Length));
        for (uint i = 0; i < OolRing.ChunksFor((uint)payload.Length); i++)
        {
            ((uint*)_mapping)[firstChunk + i] = OolRing.InFlight;
        }
    }

    /// <summary>Overwrites a run with one byte value (the rewriter's cheap change).</summary>
    public void Fill(uint firstChunk, int length, byte value) => new Span<byte>(_mapping + OolRing.DataOffset(firstChunk), length).Fill(value);

    public uint State(uint chunk) => Volatile.Read(ref ((uint*)_mapping)[chunk]);

    public void Dispose()
    {
        _ = Libc.munmap(_mapping, (nuint)OolRing.FileSize);
        Fd.Dispose();
    }
}
