using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Linux;
using MachTransport.Mach.Messages;
using Xunit;
using static MachTransport.Tests.MachLayer.MachTestMessages;

namespace MachTransport.Tests.MachLayer;

/// <summary>
/// The emulation copies small OOL data at copy-out, before any handler can refuse the message. A sealed, sparse memfd
/// costs its sender nothing, and one datagram may name it 253 times: what the receiver copies per datagram is bounded,
/// the rest is mapped lazily as before (copying every claim made 384 MiB resident here; found in review).
/// </summary>
[Trait("Category", "Hostile")]
[Collection(ProcessWideState.Name)]
public class OutOfLineAmplificationTests
{
    private const int FullySealed = Libc.F_SEAL_SHRINK | Libc.F_SEAL_GROW | Libc.F_SEAL_WRITE;
    private const uint Claim = 16 << 20;
    private const int Claims = 24; // 384 MiB here; a datagram may carry 253 (about 4 GiB)
    private static readonly int HeaderSize = Unsafe.SizeOf<MachMsgHeader>();

    [LinuxFact]
    public void SparseOutOfLineClaimsDoNotBecomeResidentMemoryOfTheReceiver()
    {
        uint port = AllocatePort();
        try
        {
            using LinuxFd sendEnd = LinuxKernel.Instance.DuplicateSendEnd(port);
            using LinuxFd sparse = SparseSealedMemfd(Claim); // the sender's whole cost: one empty 16 MiB file

            byte[] datagram = new byte[HeaderSize + 4 + (Claims * 16)];
            var header = new MachMsgHeader
            {
                Bits = MachMsgBits.Make(MachMsgTypeName.None, MachMsgTypeName.PortSend, complex: true),
                Size = (uint)datagram.Length,
                Id = 1,
            };
            MemoryMarshal.Write(datagram, in header);
            MemoryMarshal.Write(datagram.AsSpan(HeaderSize), (uint)Claims);
            for (int i = 0; i < Claims; i++)
            {
                MemoryMarshal.Write(datagram.AsSpan(HeaderSize + 4 + (i * 16)), MachMsgOolDescriptor.Create(1, Claim, false, MachMsgCopyOptions.VirtualCopy));
            }

            long before = ResidentBytes();
            Assert.Equal(0, SeqPacket.Send(sendEnd.Number, datagram, Enumerable.Repeat(sparse.Number, Claims).ToArray()));
            var received = Receive(port, bufferSize: 8192);
            long grown = ResidentBytes() - before;
            foreach (MachDescriptor descriptor in received.Descriptors)
            {
                if (descriptor.Address > 1)
                {
                    _ = Kernel.VmDeallocate(descriptor.Address, descriptor.Size);
                }
            }

            Assert.Equal(MachMsgReturn.Success, received.Result);
            Assert.True(grown < 64L << 20, $"one {datagram.Length}-byte datagram made the receiver resident by {grown >> 20} MiB ({Claims} x 16 MiB claims of one sparse memfd)");
        }
        finally
        {
            Destroy(port);
        }
    }

    private static LinuxFd SparseSealedMemfd(uint size)
    {
        int fd = Libc.memfd_create("sparse", Libc.MFD_CLOEXEC | Libc.MFD_ALLOW_SEALING);
        Assert.True(fd >= 0);
        Assert.Equal(0, Libc.ftruncate(fd, size));
        Assert.Equal(0, Libc.fcntl(fd, Libc.F_ADD_SEALS, FullySealed));
        return new LinuxFd(fd);
    }

    private static long ResidentBytes()
    {
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }
}
