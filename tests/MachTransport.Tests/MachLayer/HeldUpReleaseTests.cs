using System.Text;
using MachTransport.Mach;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Linux;
using MachTransport.Mach.Rights;
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
                SendAndLetGo(sendEnd, pipe);
            }

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

            SendAndLetGo(sendEnd, pipe);
        }

        Task destroyed = Task.Run(() => Destroy(port));
        bool returned = destroyed.Wait(Bound);
        pipe.Release();

        Assert.True(returned, "destroying the port waited for the pipe's lock");
        Assert.True(DeferredClose.WaitUntilClosed(Bound));
    }

    [LinuxFact]
    public void AMovedReceiveRightStillAcceptsHoldersAndItsReceiveTimesOut()
    {
        uint moving = AllocatePort();
        uint carrier = AllocatePort();
        uint moved = MachPort.Null;
        try
        {
            Assert.Equal(MachMsgReturn.Success, Send(carrier, MachMsgTypeName.MakeSend, 50, attachments: Attachment.Port(moving, MachMsgTypeName.MoveReceive)));
            moved = Assert.Single(Receive(carrier).Descriptors).Name;

            Task<ReceivedMessage> idle = Task.Run(() => Receive(moved, timeoutMilliseconds: 100));
            Assert.True(idle.Wait(Bound), "a receive on the moved port never returned");
            Assert.Equal(MachMsgReturn.ReceiveTimedOut, idle.Result.Result);

            using LinuxFd holder = LinuxKernel.Instance.DuplicateSendEnd(moved);
            Assert.False(holder.IsInvalid, "a new holder could not connect to the moved port");
            Assert.Equal(0, SeqPacket.Send(holder.Number, HostileDatagramTests.Simple(7), []));
            Assert.Equal(7, Receive(moved).Header.Id);
        }
        finally
        {
            if (moved != MachPort.Null)
            {
                Destroy(moved);
            }

            Destroy(carrier);
        }
    }

    [LinuxFact]
    public unsafe void ALookUpCarryingSuchAPipeDoesNotStallTheEmulationsThread()
    {
        string name = TestEnvironment.UniqueServiceName("held-up");
        using MachReceiveRight service = MachBootstrap.CheckIn(Kernel, name);
        string directory = BootstrapDomain.User.Ensure(create: false)!;
        string socketPath = Path.Combine(directory, LinuxBootstrap.FileNameFor(directory, name)) + ".sock";
        var address = new Libc.SockAddrUn { Family = Libc.AF_UNIX };
        int length = Encoding.UTF8.GetBytes(socketPath, new Span<byte>(address.Path, 107));
        address.Path[length] = 0;

        using var pipe = new LockedPipe();
        int lookUp = -1;
        bool returned;
        try
        {
            // A look-up that queues the pipe before the registrant closes its end (retried if the registrant was quicker).
            for (int attempt = 0; attempt < 100; attempt++)
            {
                lookUp = Libc.socket(Libc.AF_UNIX, Libc.SOCK_SEQPACKET | Libc.SOCK_CLOEXEC, 0);
                Assert.Equal(0, Libc.connect(lookUp, &address, (uint)sizeof(Libc.SockAddrUn)));
                if (SeqPacket.Send(lookUp, HostileDatagramTests.OneSendRight(), [pipe.ReadEnd]) == 0)
                {
                    break;
                }

                _ = Libc.close(lookUp);
                lookUp = -1;
            }

            pipe.LetGoOfReadEnd(); // the registrant's connection holds the last reference
            Task<BootstrapStatus> next = Task.Run(() =>
            {
                BootstrapStatus status = Kernel.BootstrapLookUp(name, out uint right);
                if (status == BootstrapStatus.Success)
                {
                    _ = Kernel.Deallocate(right);
                }

                return status;
            });
            returned = next.Wait(Bound) && next.Result == BootstrapStatus.Success;
        }
        finally
        {
            pipe.Release();
            _ = Libc.close(lookUp);
        }

        Assert.True(returned, "the emulation's thread waited for the pipe's lock (the next look-up failed)");
    }

    [LinuxFact]
    public void WhileOneCloseIsHeldUpHoldersComingAndGoingDoNotPileUpOpenDescriptors()
    {
        using var pipe = new LockedPipe();
        uint port = AllocatePort();
        try
        {
            using (LinuxFd sendEnd = LinuxKernel.Instance.DuplicateSendEnd(port))
            {
                SendAndLetGo(sendEnd, pipe);
            }

            Assert.Equal(MachMsgReturn.ReceiveBodyError, Receive(port).Result.WithoutSpecialBits()); // the closing thread now waits

            int before = Directory.GetFiles("/proc/self/fd").Length;
            for (int i = 0; i < 200; i++)
            {
                using (LinuxFd holder = LinuxKernel.Instance.DuplicateSendEnd(port))
                {
                    Assert.Equal(0, SeqPacket.Send(holder.Number, HostileDatagramTests.Simple(i), []));
                }

                Assert.Equal(i, Receive(port).Header.Id);
                Assert.Equal(MachMsgReturn.ReceiveTimedOut, Receive(port, timeoutMilliseconds: 0).Result); // drops the holder at end-of-file
            }

            int after = Directory.GetFiles("/proc/self/fd").Length;
            Assert.True(after - before < 20, $"{after - before} descriptors of departed holders are still open");
        }
        finally
        {
            pipe.Release();
            Destroy(port);
        }

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

    /// <summary>Sends the pipe's read end as a send right on <paramref name="sendEnd"/>, then closes ours: the port's is the last reference.</summary>
    private static void SendAndLetGo(LinuxFd sendEnd, LockedPipe pipe)
    {
        Assert.Equal(0, SeqPacket.Send(sendEnd.Number, HostileDatagramTests.OneSendRight(), [pipe.ReadEnd]));
        pipe.LetGoOfReadEnd();
    }
}
