using System.Runtime.CompilerServices;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Linux;
using MachTransport.Mach.Rights;
using Xunit;
using static MachTransport.Tests.MachLayer.MachTestMessages;

namespace MachTransport.Tests.MachLayer;

/// <summary>Rights, descriptors and memory are released exactly: counted by /proc/self/fd and the emulated name table.</summary>
[Trait("Category", "Conformance")]
[Collection(FdAccounting.Name)]
public class ResourceTests
{
    [LinuxFact]
    public void TenThousandAllocateSendDestroyCyclesLeaveTheDescriptorCountWhereItStarted()
    {
        int fds = OpenFdCount();
        int names = LinuxKernel.Instance.NameCount;
        byte[] body = new byte[64];
        for (int i = 0; i < 10_000; i++)
        {
            uint port = AllocatePort();
            uint carried = AllocatePort();
            Assert.Equal(MachMsgReturn.Success, Send(port, MachMsgTypeName.MakeSend, i, body, attachments: Attachment.Port(carried, MachMsgTypeName.MakeSend)));
            if (i % 2 == 0)
            {
                // Half are received (the carried right comes back under its name), half destroyed while queued.
                ReceivedMessage message = Receive(port);
                Assert.Equal(i, message.Header.Id);
                Assert.Equal(KernReturn.Success, Kernel.Deallocate(message.Descriptors[0].Name));
            }

            Destroy(port);
            Destroy(carried);
        }

        Assert.Equal(fds, OpenFdCount());
        Assert.Equal(names, LinuxKernel.Instance.NameCount);
    }

    [LinuxFact]
    public void OutOfLineRegionsAreFreedOnceAndLeaveNothingOpen()
    {
        int fds = OpenFdCount();
        uint port = AllocatePort();
        for (int i = 0; i < 200; i++)
        {
            using (MachOolRegion region = MachOolRegion.Allocate(Kernel, 64 * 1024))
            {
                region.Span.Fill((byte)i);
                Assert.Equal(MachMsgReturn.Success, Send(port, MachMsgTypeName.MakeSend, i, attachments: Attachment.Memory(region.Address, 64 * 1024, deallocate: true)));
                region.Detach();
            }

            ReceivedMessage message = Receive(port);
            using var received = new MachOolRegion(Kernel, message.Descriptors[0].Address, message.Descriptors[0].Size);
            Assert.Equal((byte)i, received.Span[^1]);
        }

        Destroy(port);
        Assert.Equal(fds, OpenFdCount());
    }

    [Fact]
    public void ARightThatIsNeverDisposedIsCountedAsLeakedAndStillReleased()
    {
        long leakedBefore = MachRight.LeakedCount;
        uint name = AllocateAndForget();
        for (int attempt = 0; attempt < 10 && MachRight.LeakedCount == leakedBefore; attempt++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.Equal(leakedBefore + 1, MachRight.LeakedCount);
        Assert.Equal(KernReturn.InvalidName, Kernel.GetPortType(name, out _)); // the finalizer destroyed the port
    }

    [Fact]
    public void ADisposedRightIsReleasedOnceAndNotCountedAsLeaked()
    {
        long leakedBefore = MachRight.LeakedCount;
        var right = MachReceiveRight.Allocate(Kernel);
        MachSendRight send = right.MakeSend();
        Assert.Equal(1u, Refs(right.Name, MachPortRight.Send));
        send.Dispose();
        send.Dispose();
        Assert.Equal(0u, Refs(right.Name, MachPortRight.Send));
        uint name = right.Name;
        right.Dispose();
        Assert.Equal(KernReturn.InvalidName, Kernel.GetPortType(name, out _));
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.Equal(leakedBefore, MachRight.LeakedCount);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static uint AllocateAndForget() => MachReceiveRight.Allocate(Kernel).Name;
}
