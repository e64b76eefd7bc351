using System.Runtime.InteropServices;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Linux;
using MachTransport.Mach.Messages;
using Xunit;
using static MachTransport.Tests.MachLayer.MachTestMessages;
using static MachTransport.Tests.MachLayer.RawRingPeer;

namespace MachTransport.Tests.MachLayer;

/// <summary>
/// The out-of-line ring (docs/linux-emulation.md) attacked by its sender: a peer writes raw datagrams on its own
/// connection to our port, naming runs in a ring memfd it made and can rewrite at will. The receiver must copy only
/// what lies within a properly sealed ring of the right size, take its copy once, accept one ring per connection, and
/// a sender must never wait for a receiver that never frees.
/// </summary>
[Trait("Category", "Hostile")]
[Collection(ProcessWideState.Name)]
public unsafe class OolRingTests
{
    [LinuxFact]
    public void RunInARingArrivesAsTheReceiversOwnCopyAndIsFreed()
    {
        uint port = AllocatePort();
        try
        {
            using LinuxFd sendEnd = LinuxKernel.Instance.DuplicateSendEnd(port);
            using var ring = HostileRing.Create();
            byte[] payload = Pattern(200_000, 7);
            ring.Put(3, payload);

            Assert.Equal(0, SendRun(sendEnd, ring.Fd, 3, (uint)payload.Length));
            ReceivedMessage received = Receive(port);
            Assert.Equal(MachMsgReturn.Success, received.Result);
            MachDescriptor descriptor = Assert.Single(received.Descriptors);
            try
            {
                Assert.Equal((uint)payload.Length, descriptor.Size);
                Assert.True(new ReadOnlySpan<byte>((void*)descriptor.Address, payload.Length).SequenceEqual(payload));

                // The run is free again, and rewriting it now does not reach the receiver's copy.
                Assert.All(Enumerable.Range(3, (int)OolRing.ChunksFor((uint)payload.Length)), chunk => Assert.Equal(OolRing.Free, ring.State((uint)chunk)));
                ring.Put(3, Pattern(payload.Length, 99));
                Assert.True(new ReadOnlySpan<byte>((void*)descriptor.Address, payload.Length).SequenceEqual(payload));
            }
            finally
            {
                Assert.Equal(KernReturn.Success, Kernel.VmDeallocate(descriptor.Address, descriptor.Size));
            }
        }
        finally
        {
            Destroy(port);
        }
    }

    [LinuxTheory]
    [InlineData(OolRing.ChunkCount, 1u)] // first chunk past the end
    [InlineData(OolRing.ChunkCount - 1, OolRing.ChunkSize + 1)] // run past the end
    [InlineData(0u, OolRing.MaxPayload + 1)] // more than a ring payload may be
    [InlineData(uint.MaxValue, 1u)]
    public void RunOutsideTheRingIsRefused(uint firstChunk, uint size)
    {
        uint port = AllocatePort();
        try
        {
            using LinuxFd sendEnd = LinuxKernel.Instance.DuplicateSendEnd(port);
            using var ring = HostileRing.Create();
            Assert.Equal(0, SendRun(sendEnd, ring.Fd, firstChunk, size));
            Assert.Equal(MachMsgReturn.ReceiveBodyError, Receive(port).Result.WithoutSpecialBits());
            AssertServes(port, sendEnd, ring);
        }
        finally
        {
            Destroy(port);
        }
    }

    [LinuxFact]
    public void RunNamedTwiceGivesEachMessageASnapshot()
    {
        uint port = AllocatePort();
        try
        {
            using LinuxFd sendEnd = LinuxKernel.Instance.DuplicateSendEnd(port);
            using var ring = HostileRing.Create();
            byte[] first = Pattern(70_000, 1);
            ring.Put(0, first);
            Assert.Equal(0, SendRun(sendEnd, ring.Fd, 0, (uint)first.Length));
            Assert.Equal(0, SendRun(sendEnd, ring.Fd, 0, (uint)first.Length)); // the same run, "freed" twice

            ReceivedMessage one = Receive(port);
            byte[] second = Pattern(first.Length, 2);
            ring.Put(0, second); // rewritten between the two receipts: the second message sees what is there then
            ReceivedMessage two = Receive(port);
            Assert.Equal(MachMsgReturn.Success, one.Result);
            Assert.Equal(MachMsgReturn.Success, two.Result);
            Assert.True(Bytes(one).SequenceEqual(first));
            Assert.True(Bytes(two).SequenceEqual(second));
            Assert.Equal(OolRing.Free, ring.State(0));
            Release(one);
            Release(two);
        }
        finally
        {
            Destroy(port);
        }
    }

    [LinuxTheory]
    [InlineData(0, OolRing.FileSize)] // no seals: the sender could shrink it under our mapping (SIGBUS)
    [InlineData(Libc.F_SEAL_SHRINK | Libc.F_SEAL_GROW, OolRing.FileSize - 4096)] // too small
    [InlineData(Libc.F_SEAL_SHRINK | Libc.F_SEAL_GROW, OolRing.FileSize + 4096)] // not a ring's size
    [InlineData(Libc.F_SEAL_SHRINK | Libc.F_SEAL_GROW | Libc.F_SEAL_WRITE, OolRing.FileSize)] // cannot be freed into
    [InlineData(Libc.F_SEAL_SHRINK | Libc.F_SEAL_GROW, OolRing.FileSize, 0x180)] // mode 0600: a same-user process could open it through /proc
    public void RingWithoutSealsOrOfAnotherSizeIsRefused(int seals, long size, uint mode = 0)
    {
        uint port = AllocatePort();
        try
        {
            using LinuxFd sendEnd = LinuxKernel.Instance.DuplicateSendEnd(port);
            int fd = Libc.memfd_create("hostile-ring", Libc.MFD_CLOEXEC | Libc.MFD_ALLOW_SEALING);
            Assert.True(fd >= 0);
            using var memfd = new LinuxFd(fd);
            Assert.Equal(0, Libc.fchmod(fd, mode));
            Assert.Equal(0, Libc.ftruncate(fd, size));
            Assert.Equal(0, Libc.fcntl(fd, Libc.F_ADD_SEALS, seals));
            Assert.Equal(0, SendRun(sendEnd, memfd, 0, 100));
            Assert.Equal(MachMsgReturn.ReceiveBodyError, Receive(port).Result.WithoutSpecialBits());

            // The refused file did not become the connection's ring: a proper one still does.
            using var ring = HostileRing.Create();
            AssertServes(port, sendEnd, ring);
        }
        finally
        {
            Destroy(port);
        }
    }

    [LinuxFact]
    public void SecondRingOnOneConnectionIsRefused()
    {
        uint port = AllocatePort();
        try
        {
            using LinuxFd sendEnd = LinuxKernel.Instance.DuplicateSendEnd(port);
            using var ring = HostileRing.Create();
            using var other = HostileRing.Create();
            AssertServes(port, sendEnd, ring);
            other.Put(0, Pattern(100, 5));
            Assert.Equal(0, SendRun(sendEnd, other.Fd, 0, 100));
            Assert.Equal(MachMsgReturn.ReceiveBodyError, Receive(port).Result.WithoutSpecialBits());
            AssertServes(port, sendEnd, ring);
        }
        finally
        {
            Destroy(port);
        }
    }

    /// <summary>
    /// A receiver that never frees (here: one that receives nothing yet) fills the sender's ring; further sends
    /// neither wait nor fail but carry their payload in a memfd of their own, and every payload arrives intact.
    /// </summary>
    [LinuxFact]
    public void SenderWhoseRingIsNeverFreedFallsBackWithoutWaiting()
    {
        uint port = AllocatePort();
        const int Messages = 6; // 16 chunks each: the ring holds 2
        const int Size = 1 << 20;
        byte* source = (byte*)NativeMemory.Alloc(Size);
        try
        {
            Assert.Equal(KernReturn.Success, Kernel.SetQueueLimit(port, 16));
            for (int i = 0; i < Messages; i++)
            {
                Pattern(Size, (byte)(i + 1)).CopyTo(new Span<byte>(source, Size));
                Assert.Equal(MachMsgReturn.Success, Send(port, MachMsgTypeName.MakeSend, 1, attachments: Attachment.Memory((ulong)source, Size, deallocate: false, MachMsgCopyOptions.PhysicalCopy)));
            }

            for (int i = 0; i < Messages; i++)
            {
                ReceivedMessage received = Receive(port);
                Assert.Equal(MachMsgReturn.Success, received.Result);
                Assert.True(Bytes(received).SequenceEqual(Pattern(Size, (byte)(i + 1))), $"message {i}");
                Release(received);
            }
        }
        finally
        {
            NativeMemory.Free(source);
            Destroy(port);
        }
    }

    /// <summary>
    /// A receive right that moves takes its holders' connections and the rings they brought (their parked memfds travel
    /// with it): payloads queued before the move (named without the ring attached, once the receiver said it holds it),
    /// sent while it is in transit and sent after it all arrive.
    /// </summary>
    [LinuxFact]
    public void RingPayloadsSurviveTheReceiveRightMoving()
    {
        uint moved = AllocatePort();
        uint carrier = AllocatePort();
        const int Size = 300_000;
        byte* source = (byte*)NativeMemory.Alloc(Size);
        try
        {
            Assert.Equal(KernReturn.Success, Kernel.InsertRight(moved, moved, MachMsgTypeName.MakeSend));
            MachMsgReturn SendPattern(byte seed)
            {
                Pattern(Size, seed).CopyTo(new Span<byte>(source, Size));
                return Send(moved, MachMsgTypeName.CopySend, seed, attachments: Attachment.Memory((ulong)source, Size, deallocate: false, MachMsgCopyOptions.PhysicalCopy));
            }

            Assert.Equal(MachMsgReturn.Success, SendPattern(1));
            ReceivedMessage first = Receive(moved); // the receiver has mapped the ring
            Assert.True(Bytes(first).SequenceEqual(Pattern(Size, 1)));
            Release(first);
            Assert.Equal(MachMsgReturn.Success, SendPattern(2));

            Assert.Equal(MachMsgReturn.Success, Send(carrier, MachMsgTypeName.MakeSend, 50, attachments: Attachment.Port(moved, MachMsgTypeName.MoveReceive)));
            Assert.Equal(MachMsgReturn.Success, SendPattern(3));
            Assert.Equal(moved, Assert.Single(Receive(carrier).Descriptors).Name);
            Assert.Equal(MachMsgReturn.Success, SendPattern(4));

            for (byte seed = 2; seed <= 4; seed++)
            {
                ReceivedMessage received = Receive(moved);
                Assert.Equal(MachMsgReturn.Success, received.Result);
                Assert.Equal(seed, received.Header.Id);
                Assert.True(Bytes(received).SequenceEqual(Pattern(Size, seed)), $"message {seed}");
                Release(received);
            }
        }
        finally
        {
            NativeMemory.Free(source);
            Assert.Equal(KernReturn.Success, Kernel.Deallocate(moved));
            Destroy(moved);
            Destroy(carrier);
        }
    }
}
