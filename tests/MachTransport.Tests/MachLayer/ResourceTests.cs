using System.Runtime.CompilerServices;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Linux;
using MachTransport.Mach.Rights;
using Xunit;
using static MachTransport.Tests.MachLayer.MachTestMessages;

namespace MachTransport.Tests.MachLayer;

/// <summary>Rights, descriptors and memory are released exactly: counted by /proc/&lt;pid&gt;/fd of a clean process and by the emulated name table.</summary>
[Trait("Category", "Conformance")]
[Collection(ProcessWideState.Name)]
public class ResourceTests
{
    [LinuxFact]
    public async Task TenThousandAllocateSendDestroyCyclesLeaveTheDescriptorCountWhereItStarted()
    {
        // In a process of its own, which does nothing else: the test runner's own descriptors come and go.
        await using ChildProcess peer = ChildProcess.Start("MachTransport.MachPeer", "cycles", "10000");
        string[] report = (await peer.ReadLineAsync(TimeSpan.FromSeconds(120))).Split(' ');
        Assert.Equal("fds", report[0]);
        Assert.Equal(report[1], report[2]);
        await peer.WaitForExitAsync();
        Assert.Equal(0, peer.ExitCode);
    }

    [LinuxFact]
    public void AllocateSendDestroyCyclesLeaveTheNameTableWhereItStarted()
    {
        int names = LinuxKernel.Instance.NameCount;
        byte[] body = new byte[64];
        for (int i = 0; i < 1000; i++)
        {
            uint port = AllocatePort();
            uint carried = AllocatePort();
            Assert.Equal(MachMsgReturn.Success, Send(port, MachMsgTypeName.MakeSend, i, body, attachments: Attachment.Port(carried, MachMsgTypeName.MakeSend)));
            if (i % 2 == 0)
            {
                ReceivedMessage message = Receive(port);
                Assert.Equal(i, message.Header.Id);
                Assert.Equal(KernReturn.Success, Kernel.Deallocate(message.Descriptors[0].Name));
            }

            Destroy(port);
            Destroy(carried);
        }

        Assert.Equal(names, LinuxKernel.Instance.NameCount);
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
