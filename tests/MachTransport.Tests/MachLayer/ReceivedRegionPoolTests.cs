using System.Security.Cryptography;
using MachTransport.Mach.Abi;
using MachTransport.Mach.Linux;
using MachTransport.Mach.Messages;
using MachTransport.Mach.Rights;
using Xunit;
using static MachTransport.Tests.MachLayer.MachTestMessages;

namespace MachTransport.Tests.MachLayer;

/// <summary>
/// The emulation copies received out-of-line data into pooled regions: a region freed with vm_deallocate is reused
/// for the next message of its class, reads as a fresh region would, and idle memory stays within the cap.
/// </summary>
[Collection(ProcessWideState.Name)]
public class ReceivedRegionPoolTests
{
    private static readonly int PageSize = Environment.SystemPageSize;

    [LinuxFact]
    public void AReturnedRegionIsRentedAgainForItsClass()
    {
        var pool = new ReceivedRegionPool(PageSize);
        ulong first = pool.Rent(100_000);
        Assert.NotEqual(0UL, first);
        Assert.Equal(ReceivedRegionPool.Outcome.Returned, pool.Release(first, 100_000));
        Assert.Equal(1, pool.IdleCount);

        Assert.Equal(first, pool.Rent(70_000)); // same class (128 KiB)
        ulong other = pool.Rent(300_000); // another class: a new mapping
        Assert.NotEqual(first, other);
        Assert.Equal(ReceivedRegionPool.Outcome.Returned, pool.Release(first, 70_000));
        Assert.Equal(ReceivedRegionPool.Outcome.Returned, pool.Release(other, 300_000));
        Assert.Equal(2, pool.IdleCount);
    }

    [LinuxFact]
    public void OnlyRentedRegionsFreedWholeComeBackAndPartOrTwiceIsRefused()
    {
        var pool = new ReceivedRegionPool(PageSize);
        ulong rented = pool.Rent(64 << 10);
        Assert.Equal(ReceivedRegionPool.Outcome.Refused, pool.Release(rented + (ulong)PageSize, (ulong)PageSize)); // inside it
        Assert.Equal(ReceivedRegionPool.Outcome.Refused, pool.Release(rented, (64 << 10) + 1)); // more than it holds
        Assert.Equal(ReceivedRegionPool.Outcome.Returned, pool.Release(rented, 64 << 10));
        Assert.Equal(ReceivedRegionPool.Outcome.Refused, pool.Release(rented, 64 << 10)); // a second free: it is idle now
        Assert.Equal(ReceivedRegionPool.Outcome.NotPooled, pool.Release(rented - (1UL << 30), (ulong)PageSize)); // elsewhere
    }

    [LinuxFact]
    public void IdleMemoryStaysWithinTheCapAndLargerRegionsAreNotPooled()
    {
        var pool = new ReceivedRegionPool(PageSize);
        const ulong Largest = ReceivedRegionPool.MaxPooledSize;
        ulong[] regions = Enumerable.Range(0, (int)(ReceivedRegionPool.MaxIdleBytes / Largest) + 1).Select(_ => pool.Rent(Largest)).ToArray();
        foreach (ulong region in regions)
        {
            Assert.Equal(ReceivedRegionPool.Outcome.Returned, pool.Release(region, Largest));
        }

        Assert.Equal(regions.Length - 1, pool.IdleCount); // the last one went over the cap and was unmapped
        Assert.Equal(0UL, pool.Rent(Largest + 1));
    }

    [LinuxFact]
    public void AReusedRegionHoldsOnlyTheNewMessageAndZerosAfterIt()
    {
        uint port = AllocatePort();
        try
        {
            ulong first = ReceiveOutOfLine(port, RandomNumberGenerator.GetBytes(100_000), out _);
            byte[] second = RandomNumberGenerator.GetBytes(90_000);
            ulong reused = ReceiveOutOfLine(port, second, out byte[] tail);
            Assert.Equal(first, reused);
            Assert.All(tail, b => Assert.Equal(0, b)); // the first message's bytes 90,000.. do not show through
        }
        finally
        {
            Destroy(port);
        }
    }

    /// <summary>Sends <paramref name="payload"/> out of line to <paramref name="port"/>, receives it, checks it, frees it.</summary>
    private static unsafe ulong ReceiveOutOfLine(uint port, byte[] payload, out byte[] tailOfLastPage)
    {
        fixed (byte* bytes = payload)
        {
            Assert.Equal(MachMsgReturn.Success, Send(port, MachMsgTypeName.MakeSend, 66, attachments: Attachment.Memory((ulong)bytes, (uint)payload.Length, deallocate: false)));
        }

        MachDescriptor descriptor = Assert.Single(Receive(port).Descriptors);
        using var received = new MachOolRegion(Kernel, descriptor.Address, descriptor.Size);
        Assert.True(received.Span.SequenceEqual(payload));
        int pageEnd = (payload.Length + PageSize - 1) / PageSize * PageSize;
        tailOfLastPage = new ReadOnlySpan<byte>((byte*)descriptor.Address + payload.Length, pageEnd - payload.Length).ToArray();
        return descriptor.Address;
    }
}
