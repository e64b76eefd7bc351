using MachTransport.Mach.Abi;
using MachTransport.Mach.Linux;
using Xunit;
using static MachTransport.Tests.MachLayer.MachTestMessages;

namespace MachTransport.Tests.MachLayer;

/// <summary>
/// Descriptors whose release a hostile process holds up (a pipe whose lock it keeps, <see cref="LockedPipe"/>), sent
/// where the emulation will close them: no thread of ours that serves others may wait for that process.
/// </summary>
[Trait("Category", "Hostile")]
[Collection(ProcessWideState.Name)]
public class HeldUpReleaseTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [LinuxFact]
    public void ARefusedDatagramCarryingSuchAPipeDoesNotStallTheReceiver()
    {
        using var pipe = new LockedPipe();
        uint port = AllocatePort();
        try
        {
            using (LinuxFd sendEnd = LinuxKernel.Instance.DuplicateSendEnd(port))
            {
                Assert.Equal(0, SeqPacket.Send(sendEnd.Number, HostileDatagramTests.OneSendRight(), [pipe.ReadEnd]));
            }

            _ = Libc.close(pipe.ReadEnd); // the port's is the last reference
            Task<ReceivedMessage> received = Task.Run(() => Receive(port));
            bool returned = received.Wait(Bound);
            pipe.Release();

            Assert.True(returned, "the receive waited for the pipe's lock");
            Assert.Equal(MachMsgReturn.ReceiveBodyError, received.Result.Result.WithoutSpecialBits());
            Assert.Equal(MachMsgReturn.Success, Send(port, MachMsgTypeName.MakeSend, 42));
            Assert.Equal(42, Receive(port).Header.Id);
        }
        finally
        {
            Destroy(port);
        }

        Assert.True(DeferredClose.WaitUntilClosed(Bound));
    }

    [LinuxTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void DestroyingAPortWhoseQueueHoldsSuchAPipeDoesNotWait(bool accepted)
    {
        using var pipe = new LockedPipe();
        uint port = AllocatePort();
        using (LinuxFd sendEnd = LinuxKernel.Instance.DuplicateSendEnd(port))
        {
            if (accepted)
            {
                // A first message makes the port accept this connection; otherwise it waits in the listener's backlog.
                Assert.Equal(0, SeqPacket.Send(sendEnd.Number, HostileDatagramTests.Simple(1), []));
                Assert.Equal(1, Receive(port).Header.Id);
            }

            Assert.Equal(0, SeqPacket.Send(sendEnd.Number, HostileDatagramTests.OneSendRight(), [pipe.ReadEnd]));
            _ = Libc.close(pipe.ReadEnd);
        }

        Task destroyed = Task.Run(() => Destroy(port));
        bool returned = destroyed.Wait(Bound);
        pipe.Release();

        Assert.True(returned, "destroying the port waited for the pipe's lock");
        Assert.True(DeferredClose.WaitUntilClosed(Bound));
    }

    [LinuxFact]
    public unsafe void APortsOwnerCannotQueueAnythingIntoAHoldersConnection()
    {
        Assert.Equal(0, PortSocket.Create(out LinuxFd listener, out LinuxFd path));
        using (listener)
        using (path)
        {
            Assert.Equal(0, PortSocket.Connect(path.Number, out LinuxFd? connection));
            using (connection)
            {
                int accepted = Libc.accept4(listener.Number, null, null, Libc.SOCK_CLOEXEC);
                Assert.True(accepted >= 0);
                try
                {
                    byte one = 1;
                    Assert.Equal(-1, Libc.write(accepted, &one, 1));
                    Assert.Equal(Libc.EPIPE, Libc.LastError);
                    Assert.Equal(1, Libc.write(connection!.Number, &one, 1)); // the holder still sends
                }
                finally
                {
                    _ = Libc.close(accepted);
                }
            }
        }
    }
}
