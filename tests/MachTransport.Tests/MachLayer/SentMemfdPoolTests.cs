using System.Security.Cryptography;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Linux;
using MachTransport.Mach.Messages;
using MachTransport.Mach.Rights;
using Xunit;
using static MachTransport.Tests.MachLayer.MachTestMessages;

namespace MachTransport.Tests.MachLayer;

/// <summary>
/// Copied out-of-line data travels in pooled memfds, written again only when nobody else holds them: not while a
/// message is in flight or a receiver keeps the descriptor, and never with bytes of an earlier, longer message.
/// </summary>
public class SentMemfdPoolTests
{
    [LinuxFact]
    public void AMemfdIsWrittenAgainOnlyOnceEveryDescriptorOfItIsClosed()
    {
        var pool = new SentMemfdPool();
        LinuxFd held = Write(pool, RandomNumberGenerator.GetBytes(100_000)); // a receiver (or a message in flight) keeps it
        byte[] second = RandomNumberGenerator.GetBytes(50_000);
        using (LinuxFd other = Write(pool, second))
        {
            Assert.Equal(2, pool.Count); // the first memfd is held: a second one carries this payload
            Assert.Equal(second, ReadAll(other));
        }

        held.Dispose();
        byte[] third = RandomNumberGenerator.GetBytes(70_000);
        using (LinuxFd reused = Write(pool, third))
        {
            Assert.Equal(2, pool.Count); // both were free again: no third memfd
            Assert.Equal(third, ReadAll(reused));
        }
    }

    [LinuxFact]
    public void AReusedMemfdHoldsOnlyTheNewPayload()
    {
        var pool = new SentMemfdPool();
        Write(pool, RandomNumberGenerator.GetBytes(200_000)).Dispose();
        byte[] shorter = RandomNumberGenerator.GetBytes(5_000);
        using LinuxFd reused = Write(pool, shorter);
        Assert.Equal(1, pool.Count);
        Assert.Equal(shorter, ReadAll(reused)); // nothing of the longer payload is left to read
    }

    private static unsafe LinuxFd Write(SentMemfdPool pool, byte[] payload)
    {
        fixed (byte* bytes = payload)
        {
            LinuxFd? written = pool.Write((ulong)bytes, (uint)payload.Length, out int error);
            Assert.Equal(0, error);
            return Assert.IsType<LinuxFd>(written);
        }
    }

    private static unsafe byte[] ReadAll(LinuxFd memfd)
    {
        byte[] buffer = new byte[1 << 20];
        fixed (byte* target = buffer)
        {
            nint read = Libc.pread(memfd.Number, target, (nuint)buffer.Length, 0);
            return buffer[..(int)read];
        }
    }

    [LinuxFact]
    public unsafe void MessagesCarryPooledMemfdsAndArriveIntact()
    {
        uint port = AllocatePort();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                byte[] payload = RandomNumberGenerator.GetBytes(300_000 + i);
                fixed (byte* bytes = payload)
                {
                    Assert.Equal(MachMsgReturn.Success, Send(port, MachMsgTypeName.MakeSend, 70 + i, attachments: Attachment.Memory((ulong)bytes, (uint)payload.Length, deallocate: false)));
                }

                payload[0] ^= 0xFF; // the message owns a copy
                MachDescriptor descriptor = Assert.Single(Receive(port).Descriptors);
                using var received = new MachOolRegion(Kernel, descriptor.Address, descriptor.Size);
                payload[0] ^= 0xFF;
                Assert.True(received.Span.SequenceEqual(payload));
            }
        }
        finally
        {
            Destroy(port);
        }
    }
}
