using System.Security.Cryptography;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Messages;
using MachTransport.Mach.Rights;
using Xunit;
using static MachTransport.Tests.MachLayer.MachTestMessages;

namespace MachTransport.Tests.MachLayer;

/// <summary>Mach IPC behaviour on the active backend (mach-abi.md §4, §5, §7 describe what XNU does).</summary>
[Trait("Category", "Conformance")]
public class ConformanceTests
{
    [Fact]
    public void MessagesArriveInFifoOrder()
    {
        uint port = AllocatePort();
        try
        {
            for (int i = 0; i < 100; i++)
            {
                Assert.Equal(MachMsgReturn.Success, Send(port, MachMsgTypeName.MakeSend, 1000 + i, BitConverter.GetBytes(i)));
            }

            for (int i = 0; i < 100; i++)
            {
                ReceivedMessage message = Receive(port);
                Assert.Equal(MachMsgReturn.Success, message.Result);
                Assert.Equal(1000 + i, message.Header.Id);
                Assert.Equal(i, BitConverter.ToInt32(message.Body));
                Assert.Equal(port, message.Header.LocalPort);
            }
        }
        finally
        {
            Destroy(port);
        }
    }

    [Fact]
    public async Task ManySendersReachOneReceiverEachInOrder()
    {
        const int Senders = 8;
        const int PerSender = 200;
        uint port = AllocatePort();
        try
        {
            Assert.Equal(KernReturn.Success, Kernel.InsertRight(port, port, MachMsgTypeName.MakeSend));
            Task[] senders = Enumerable.Range(0, Senders).Select(sender => Task.Run(() =>
            {
                for (int i = 0; i < PerSender; i++)
                {
                    byte[] body = [.. BitConverter.GetBytes(sender), .. BitConverter.GetBytes(i)];
                    Assert.Equal(MachMsgReturn.Success, Send(port, MachMsgTypeName.CopySend, 7, body, timeoutMilliseconds: 10_000));
                }
            })).ToArray();

            int[] next = new int[Senders];
            for (int n = 0; n < Senders * PerSender; n++)
            {
                ReceivedMessage message = Receive(port);
                Assert.Equal(MachMsgReturn.Success, message.Result);
                int sender = BitConverter.ToInt32(message.Body, 0);
                Assert.Equal(next[sender]++, BitConverter.ToInt32(message.Body, 4));
            }

            await Task.WhenAll(senders).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.All(next, count => Assert.Equal(PerSender, count));
            Assert.Equal(1u, Refs(port, MachPortRight.Send));
        }
        finally
        {
            Assert.Equal(KernReturn.Success, Kernel.Deallocate(port));
            Destroy(port);
        }
    }

    [Fact]
    public void CopySendKeepsTheReferenceAndMoveSendConsumesIt()
    {
        uint port = AllocatePort();
        try
        {
            Assert.Equal(KernReturn.Success, Kernel.InsertRight(port, port, MachMsgTypeName.MakeSend));
            Assert.Equal(1u, Refs(port, MachPortRight.Send));

            Assert.Equal(MachMsgReturn.Success, Send(port, MachMsgTypeName.CopySend, 1));
            Assert.Equal(1u, Refs(port, MachPortRight.Send));

            Assert.Equal(MachMsgReturn.Success, Send(port, MachMsgTypeName.MoveSend, 2));
            Assert.Equal(0u, Refs(port, MachPortRight.Send));
            Assert.Equal(MachMsgReturn.SendInvalidDest, Send(port, MachMsgTypeName.MoveSend, 3));

            Assert.Equal(MachMsgReturn.Success, Send(port, MachMsgTypeName.MakeSend, 4));
            Assert.Equal(0u, Refs(port, MachPortRight.Send));
            Assert.Equal([1, 2, 4], new[] { Receive(port).Header.Id, Receive(port).Header.Id, Receive(port).Header.Id });
        }
        finally
        {
            Destroy(port);
        }
    }

    [Fact]
    public void ASendRightCarriedToItsOwnTaskMergesUnderTheSameName()
    {
        uint inbox = AllocatePort();
        uint other = AllocatePort();
        try
        {
            Assert.Equal(MachMsgReturn.Success, Send(inbox, MachMsgTypeName.MakeSend, 9, attachments: Attachment.Port(other, MachMsgTypeName.MakeSend)));
            ReceivedMessage message = Receive(inbox);
            Assert.Equal(MachMsgReturn.Success, message.Result);
            MachDescriptor descriptor = Assert.Single(message.Descriptors);
            Assert.Equal(MachMsgDescriptorType.Port, descriptor.Type);
            Assert.Equal(MachMsgTypeName.PortSend, descriptor.Disposition);
            Assert.Equal(other, descriptor.Name);
            Assert.Equal(1u, Refs(other, MachPortRight.Send));
            Assert.Equal(KernReturn.Success, Kernel.Deallocate(other));
        }
        finally
        {
            Destroy(inbox);
            Destroy(other);
        }
    }

    [Fact]
    public void ASendOnceRightWorksOnceAndIsThenGone()
    {
        uint port = AllocatePort();
        try
        {
            Assert.Equal(KernReturn.Success, Kernel.ExtractRight(port, MachMsgTypeName.MakeSendOnce, out uint once, out MachMsgTypeName type));
            Assert.Equal(MachMsgTypeName.PortSendOnce, type);
            Assert.NotEqual(port, once);
            Assert.Equal(KernReturn.Success, Kernel.GetPortType(once, out MachPortType onceType));
            Assert.Equal(MachPortType.SendOnce, onceType);

            Assert.Equal(MachMsgReturn.Success, Send(once, MachMsgTypeName.MoveSendOnce, 5));
            Assert.Equal(MachMsgReturn.SendInvalidDest, Send(once, MachMsgTypeName.MoveSendOnce, 6));
            Assert.Equal(KernReturn.InvalidName, Kernel.GetPortType(once, out _));

            ReceivedMessage message = Receive(port);
            Assert.Equal(5, message.Header.Id);
            Assert.Equal(MachMsgTypeName.PortSendOnce, message.Header.LocalDisposition);
            Assert.Equal(MachMsgReturn.ReceiveTimedOut, Receive(port, timeoutMilliseconds: 0).Result);
        }
        finally
        {
            Destroy(port);
        }
    }

    [Fact]
    public void AReplyRightArrivesInTheHeaderAndCanBeAnsweredOnce()
    {
        uint server = AllocatePort();
        uint client = AllocatePort();
        try
        {
            Assert.Equal(MachMsgReturn.Success, Send(server, MachMsgTypeName.MakeSend, 10, replyPort: client, replyDisposition: MachMsgTypeName.MakeSendOnce));
            ReceivedMessage request = Receive(server);
            Assert.Equal(MachMsgTypeName.PortSendOnce, request.Header.RemoteDisposition);
            Assert.Equal(MachMsgReturn.Success, Send(request.Header.RemotePort, MachMsgTypeName.MoveSendOnce, 11));
            ReceivedMessage reply = Receive(client);
            Assert.Equal(11, reply.Header.Id);
            Assert.Equal(client, reply.Header.LocalPort);
        }
        finally
        {
            Destroy(server);
            Destroy(client);
        }
    }

    [Fact]
    public void MovingAReceiveRightKeepsQueuedMessagesAndThoseSentInTransit()
    {
        uint moved = AllocatePort();
        uint carrier = AllocatePort();
        try
        {
            Assert.Equal(KernReturn.Success, Kernel.InsertRight(moved, moved, MachMsgTypeName.MakeSend));
            Assert.Equal(MachMsgReturn.Success, Send(moved, MachMsgTypeName.CopySend, 1));
            Assert.Equal(MachMsgReturn.Success, Send(moved, MachMsgTypeName.CopySend, 2));

            Assert.Equal(MachMsgReturn.Success, Send(carrier, MachMsgTypeName.MakeSend, 50, attachments: Attachment.Port(moved, MachMsgTypeName.MoveReceive)));
            Assert.Equal(0u, Refs(moved, MachPortRight.Receive));
            Assert.Equal(MachMsgReturn.Success, Send(moved, MachMsgTypeName.CopySend, 3));

            ReceivedMessage message = Receive(carrier);
            MachDescriptor descriptor = Assert.Single(message.Descriptors);
            Assert.Equal(MachMsgTypeName.PortReceive, descriptor.Disposition);
            Assert.Equal(moved, descriptor.Name); // we still hold a send right to it: same port, same name
            Assert.Equal(1u, Refs(moved, MachPortRight.Receive));
            Assert.Equal([1, 2, 3], new[] { Receive(moved).Header.Id, Receive(moved).Header.Id, Receive(moved).Header.Id });
        }
        finally
        {
            Assert.Equal(KernReturn.Success, Kernel.Deallocate(moved));
            Destroy(moved);
            Destroy(carrier);
        }
    }

    [Fact]
    public void AReceiveTimesOut()
    {
        uint port = AllocatePort();
        try
        {
            Assert.Equal(MachMsgReturn.ReceiveTimedOut, Receive(port, timeoutMilliseconds: 50).Result);
            Assert.Equal(MachMsgReturn.ReceiveTimedOut, Receive(port, timeoutMilliseconds: 0).Result);
        }
        finally
        {
            Destroy(port);
        }
    }

    [Fact]
    public void ATooLargeMessageStaysQueuedWithReceiveLarge()
    {
        uint port = AllocatePort();
        try
        {
            byte[] body = RandomNumberGenerator.GetBytes(1000);
            Assert.Equal(MachMsgReturn.Success, Send(port, MachMsgTypeName.MakeSend, 77, body));

            ReceivedMessage tooLarge = Receive(port, bufferSize: 256, extra: MachMsgOption.ReceiveLarge);
            Assert.Equal(MachMsgReturn.ReceiveTooLarge, tooLarge.Result);
            Assert.Equal(24u + 1000u, tooLarge.Header.Size); // msgh_size without trailer (mach-abi.md §5.4)

            ReceivedMessage whole = Receive(port, bufferSize: 2048, extra: MachMsgOption.ReceiveLarge);
            Assert.Equal(MachMsgReturn.Success, whole.Result);
            Assert.Equal(body, whole.Body);
        }
        finally
        {
            Destroy(port);
        }
    }

    [Fact]
    public void ATooLargeMessageIsDestroyedWithoutReceiveLarge()
    {
        uint port = AllocatePort();
        uint carried = AllocatePort();
        try
        {
            Assert.Equal(MachMsgReturn.Success, Send(port, MachMsgTypeName.MakeSend, 78, new byte[1000], attachments: Attachment.Port(carried, MachMsgTypeName.MakeSend)));
            Assert.Equal(MachMsgReturn.ReceiveTooLarge, Receive(port, bufferSize: 256).Result);
            Assert.Equal(MachMsgReturn.ReceiveTimedOut, Receive(port, timeoutMilliseconds: 0).Result);
            Assert.Equal(0u, Refs(carried, MachPortRight.Send)); // the right it carried was destroyed with it
        }
        finally
        {
            Destroy(port);
            Destroy(carried);
        }
    }

    [Fact]
    public void SixtyFourMebibytesOutOfLineArriveByteExact()
    {
        const int Size = 64 * 1024 * 1024;
        uint port = AllocatePort();
        try
        {
            byte[] hash;
            using (MachOolRegion region = MachOolRegion.Allocate(Kernel, Size))
            {
                RandomNumberGenerator.Fill(region.Span);
                hash = SHA256.HashData(region.Span);
                Assert.Equal(MachMsgReturn.Success, Send(port, MachMsgTypeName.MakeSend, 64, attachments: Attachment.Memory(region.Address, Size, deallocate: true)));
                region.Detach();
            }

            ReceivedMessage message = Receive(port);
            MachDescriptor descriptor = Assert.Single(message.Descriptors);
            Assert.Equal(MachMsgDescriptorType.Ool, descriptor.Type);
            Assert.Equal((uint)Size, descriptor.Size);
            using var received = new MachOolRegion(Kernel, descriptor.Address, descriptor.Size);
            Assert.Equal(hash, SHA256.HashData(received.Span));
        }
        finally
        {
            Destroy(port);
        }
    }

    [Fact]
    public void OutOfLineMemoryIsCopiedFromAnyBufferWithPhysicalCopy()
    {
        uint port = AllocatePort();
        byte[] source = RandomNumberGenerator.GetBytes(100_000);
        try
        {
            unsafe
            {
                fixed (byte* bytes = source)
                {
                    Assert.Equal(MachMsgReturn.Success, Send(port, MachMsgTypeName.MakeSend, 65, attachments: Attachment.Memory((ulong)bytes, (uint)source.Length, deallocate: false, MachMsgCopyOptions.PhysicalCopy)));
                }
            }

            source[0] ^= 0xFF; // the message owns a copy: later writes to the source do not show
            ReceivedMessage message = Receive(port);
            MachDescriptor descriptor = Assert.Single(message.Descriptors);
            Assert.False(descriptor.Deallocate);
            using var received = new MachOolRegion(Kernel, descriptor.Address, descriptor.Size);
            source[0] ^= 0xFF;
            Assert.True(received.Span.SequenceEqual(source));
        }
        finally
        {
            Destroy(port);
        }
    }

    [Fact]
    public void APortSetDeliversFromEachMember()
    {
        using MachPortSet set = MachPortSet.Allocate(Kernel);
        using MachReceiveRight a = MachReceiveRight.Allocate(Kernel), b = MachReceiveRight.Allocate(Kernel), c = MachReceiveRight.Allocate(Kernel);
        set.Add(a);
        set.Add(b);
        set.Add(c);
        Assert.Equal(KernReturn.AlreadyInSet, Kernel.InsertMember(a.Name, set.Name));
        foreach (MachReceiveRight member in new[] { a, b, c })
        {
            Assert.Equal(MachMsgReturn.Success, Send(member.Name, MachMsgTypeName.MakeSend, (int)member.Name));
        }

        var seen = new HashSet<uint>();
        for (int i = 0; i < 3; i++)
        {
            ReceivedMessage message = Receive(set.Name);
            Assert.Equal(MachMsgReturn.Success, message.Result);
            Assert.Equal((int)message.Header.LocalPort, message.Header.Id);
            seen.Add(message.Header.LocalPort);
        }

        Assert.Equal(new HashSet<uint> { a.Name, b.Name, c.Name }, seen);
        set.Remove(b);
        Assert.Equal(MachMsgReturn.Success, Send(b.Name, MachMsgTypeName.MakeSend, 1));
        Assert.Equal(MachMsgReturn.ReceiveTimedOut, Receive(set.Name, timeoutMilliseconds: 0).Result);
        Assert.Equal(1, Receive(b.Name).Header.Id);
    }

    [LinuxFact]
    public async Task DestroyingAPortWakesItsBlockedReceiver()
    {
        uint port = AllocatePort();
        var receiver = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<ReceivedMessage> waiting = Task.Factory.StartNew(
            () =>
            {
                receiver.SetResult(BlockedThread.CurrentId());
                return Receive(port, timeoutMilliseconds: 20_000);
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        // Destroyed only once the receiver sleeps in the kernel: a wake-up, not a receive on a name already gone.
        await BlockedThread.WaitUntilInPollAsync(await receiver.Task.WaitAsync(TimeSpan.FromSeconds(10)), TimeSpan.FromSeconds(10));
        Assert.False(waiting.IsCompleted);
        Destroy(port);
        ReceivedMessage result = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(MachMsgReturn.ReceivePortChanged, result.Result); // as XNU does (mach-abi.md, PORT_CHANGED / PORT_DIED)
    }

    [Fact]
    public void ReceivingOnADestroyedPortFailsWithInvalidName()
    {
        uint port = AllocatePort();
        Destroy(port);
        Assert.Equal(MachMsgReturn.ReceiveInvalidName, Receive(port, timeoutMilliseconds: 0).Result);
    }

    [Fact]
    public void ADeadNameNotificationArrivesWhenThePortDies()
    {
        uint watched = AllocatePort();
        uint notify = AllocatePort();
        try
        {
            Assert.Equal(KernReturn.Success, Kernel.InsertRight(watched, watched, MachMsgTypeName.MakeSend));
            Assert.Equal(KernReturn.Success, Kernel.RequestNotification(watched, MachNotifyId.DeadName, 1, notify, MachMsgTypeName.MakeSendOnce, out uint previous));
            Assert.Equal(0u, previous);
            Destroy(watched);

            ReceivedMessage notification = Receive(notify);
            Assert.Equal(MachMsgReturn.Success, notification.Result);
            Assert.Equal(MachNotifyId.DeadName, notification.Header.Id);
            Assert.Equal(36u, notification.Header.Size);
            Assert.Equal(watched, BitConverter.ToUInt32(notification.Body, 8)); // not_port after the 8-byte NDR record
            Assert.Equal(0, notification.Trailer.Audit.Pid); // sent by the kernel
            Assert.Equal(KernReturn.Success, Kernel.GetPortType(watched, out MachPortType type));
            Assert.Equal(MachPortType.DeadName, type);
            Assert.Equal(2u, Refs(watched, MachPortRight.DeadName)); // our send right plus the notification's reference
            Assert.Equal(KernReturn.Success, Kernel.ModRefs(watched, MachPortRight.DeadName, -2));
            Assert.Equal(KernReturn.InvalidName, Kernel.GetPortType(watched, out _));
        }
        finally
        {
            Destroy(notify);
        }
    }

    [Fact]
    public void TheQueueLimitAttributeIsKeptAndBounded()
    {
        using MachReceiveRight port = MachReceiveRight.Allocate(Kernel);
        Assert.Equal(KernReturn.Success, Kernel.GetQueueLimit(port.Name, out uint initial));
        Assert.Equal(MachPort.QueueLimitDefault, initial);
        port.SetQueueLimit(MachPort.QueueLimitMax);
        Assert.Equal(KernReturn.Success, Kernel.GetQueueLimit(port.Name, out uint raised));
        Assert.Equal(MachPort.QueueLimitMax, raised);
        Assert.Equal(KernReturn.InvalidValue, Kernel.SetQueueLimit(port.Name, MachPort.QueueLimitMax + 1));
    }

    [Fact]
    public void AZeroTimeoutSendToAFullQueueTimesOutAndKeepsTheMessage()
    {
        using MachReceiveRight port = MachReceiveRight.Allocate(Kernel);
        using MachReceiveRight carried = MachReceiveRight.Allocate(Kernel);
        byte[] body = new byte[16 * 1024];
        int sent = 0;
        MachMsgReturn result;
        while ((result = Send(port.Name, MachMsgTypeName.MakeSend, sent, body)) == MachMsgReturn.Success)
        {
            Assert.True(++sent < 100_000, "the queue never filled");
        }

        Assert.Equal(MachMsgReturn.SendTimedOut, result);
        // The failed send consumed nothing: a right named with MOVE semantics in it is still ours.
        Assert.Equal(KernReturn.Success, Kernel.InsertRight(carried.Name, carried.Name, MachMsgTypeName.MakeSend));
        Assert.Equal(MachMsgReturn.SendTimedOut, Send(port.Name, MachMsgTypeName.MakeSend, -1, body, attachments: Attachment.Port(carried.Name, MachMsgTypeName.MoveSend)));
        Assert.Equal(1u, Refs(carried.Name, MachPortRight.Send));

        Assert.Equal(0, Receive(port.Name, bufferSize: 32 * 1024).Header.Id);
        Assert.Equal(MachMsgReturn.Success, Send(port.Name, MachMsgTypeName.MakeSend, -2, body, attachments: Attachment.Port(carried.Name, MachMsgTypeName.MoveSend)));
        Assert.Equal(0u, Refs(carried.Name, MachPortRight.Send));
    }

    [Fact]
    public void BadHeadersAreRefusedAsXnuRefusesThem()
    {
        uint port = AllocatePort();
        try
        {
            Assert.Equal(MachMsgReturn.SendInvalidDest, Send(0x12345603, MachMsgTypeName.CopySend, 1));
            Assert.Equal(MachMsgReturn.SendInvalidHeader, Send(port, MachMsgTypeName.MoveReceive, 1));
            Assert.Equal(MachMsgReturn.SendInvalidDest, Send(port, MachMsgTypeName.CopySend, 1)); // no send right held
            Assert.Equal(MachMsgReturn.SendInvalidRight, Send(port, MachMsgTypeName.MakeSend, 1, attachments: Attachment.Port(0x7777_7703, MachMsgTypeName.CopySend)));
            Assert.Equal(MachMsgReturn.ReceiveTimedOut, Receive(port, timeoutMilliseconds: 0).Result);
        }
        finally
        {
            Destroy(port);
        }
    }
}
