using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MachTransport.Mach.Abi;
using Xunit;

namespace MachTransport.Tests.Abi;

// docs/mach-abi.md §6 (trailer formats and REQUESTED_TRAILER_SIZE), §6.1 (audit_token_t as the kernel fills it), §12.
[Trait("Category", "Abi")]
public class TrailerLayoutTests
{
    [Fact]
    public void AuditTrailerIs52BytesAndTokenIs32()
    {
        Assert.Equal(52, Unsafe.SizeOf<MachMsgAuditTrailer>());
        Assert.Equal(32, Unsafe.SizeOf<AuditToken>());
    }

    [Fact]
    public void AuditTrailerFieldOffsets()
    {
        Assert.Equal(0, (int)Marshal.OffsetOf<MachMsgAuditTrailer>(nameof(MachMsgAuditTrailer.TrailerType)));
        Assert.Equal(4, (int)Marshal.OffsetOf<MachMsgAuditTrailer>(nameof(MachMsgAuditTrailer.TrailerSize)));
        Assert.Equal(8, (int)Marshal.OffsetOf<MachMsgAuditTrailer>(nameof(MachMsgAuditTrailer.Seqno)));
        Assert.Equal(12, (int)Marshal.OffsetOf<MachMsgAuditTrailer>(nameof(MachMsgAuditTrailer.SenderUid)));
        Assert.Equal(16, (int)Marshal.OffsetOf<MachMsgAuditTrailer>(nameof(MachMsgAuditTrailer.SenderGid)));
        Assert.Equal(20, (int)Marshal.OffsetOf<MachMsgAuditTrailer>(nameof(MachMsgAuditTrailer.Audit)));
    }

    [Fact]
    public void AuditTokenWordsAreInProcCalcAuditTokenOrder()
    {
        Assert.Equal(0, (int)Marshal.OffsetOf<AuditToken>(nameof(AuditToken.AuditUserId)));
        Assert.Equal(4, (int)Marshal.OffsetOf<AuditToken>(nameof(AuditToken.EffectiveUid)));
        Assert.Equal(8, (int)Marshal.OffsetOf<AuditToken>(nameof(AuditToken.EffectiveGid)));
        Assert.Equal(12, (int)Marshal.OffsetOf<AuditToken>(nameof(AuditToken.RealUid)));
        Assert.Equal(16, (int)Marshal.OffsetOf<AuditToken>(nameof(AuditToken.RealGid)));
        Assert.Equal(20, (int)Marshal.OffsetOf<AuditToken>(nameof(AuditToken.Pid)));
        Assert.Equal(24, (int)Marshal.OffsetOf<AuditToken>(nameof(AuditToken.AuditSessionId)));
        Assert.Equal(28, (int)Marshal.OffsetOf<AuditToken>(nameof(AuditToken.PidVersion)));
    }

    [Fact]
    public void KernelWrittenTrailerBytesReadBackAtTheDocumentedOffsets()
    {
        // Lay the bytes out as the kernel does, by offset, then read them through the struct.
        var bytes = new byte[52];
        Bytes.Put32(bytes, 0, 0);        // MACH_MSG_TRAILER_FORMAT_0
        Bytes.Put32(bytes, 4, 52);       // msgh_trailer_size
        Bytes.Put32(bytes, 8, 7);        // msgh_seqno
        Bytes.Put32(bytes, 12, 501);     // msgh_sender.val[0]: euid
        Bytes.Put32(bytes, 16, 20);      // msgh_sender.val[1]: egid
        Bytes.Put32(bytes, 20, 502);     // auid
        Bytes.Put32(bytes, 24, 503);     // euid
        Bytes.Put32(bytes, 28, 21);      // egid
        Bytes.Put32(bytes, 32, 504);     // ruid
        Bytes.Put32(bytes, 36, 22);      // rgid
        Bytes.Put32(bytes, 40, 4242);    // pid
        Bytes.Put32(bytes, 44, 100_001); // asid
        Bytes.Put32(bytes, 48, 9);       // pid version

        MachMsgAuditTrailer trailer = MemoryMarshal.Read<MachMsgAuditTrailer>(bytes);

        Assert.Equal(0u, trailer.TrailerType);
        Assert.Equal(52u, trailer.TrailerSize);
        Assert.Equal(7u, trailer.Seqno);
        Assert.Equal(501u, trailer.SenderUid);
        Assert.Equal(20u, trailer.SenderGid);
        Assert.Equal(502u, trailer.Audit.AuditUserId);
        Assert.Equal(503u, trailer.Audit.EffectiveUid);
        Assert.Equal(21u, trailer.Audit.EffectiveGid);
        Assert.Equal(504u, trailer.Audit.RealUid);
        Assert.Equal(22u, trailer.Audit.RealGid);
        Assert.Equal(4242, trailer.Audit.Pid);
        Assert.Equal(100_001u, trailer.Audit.AuditSessionId);
        Assert.Equal(9u, trailer.Audit.PidVersion);
    }

    [Fact]
    public void TrailerSizeConstants()
    {
        Assert.Equal(8, MachMsgAuditTrailer.MinimalSize);
        Assert.Equal(12, MachMsgAuditTrailer.SeqnoSize);
        Assert.Equal(20, MachMsgAuditTrailer.SecuritySize);
        Assert.Equal(52, MachMsgAuditTrailer.AuditSize);
        Assert.Equal(60, MachMsgAuditTrailer.ContextSize);
        Assert.Equal(68, MachMsgAuditTrailer.MaxSize);
    }

    [Theory]
    [InlineData(0x00000002, 8)]    // MACH_RCV_TRAILER_NULL
    [InlineData(0x01000002, 12)]   // SEQNO
    [InlineData(0x02000002, 20)]   // SENDER
    [InlineData(0x03000002, 52)]   // AUDIT
    [InlineData(0x04000002, 60)]   // CTX
    [InlineData(0x05000002, 68)]   // no such element count: max trailer
    [InlineData(0x06000002, 68)]
    [InlineData(0x07000002, 68)]   // AV
    [InlineData(0x08000002, 68)]   // LABELS
    [InlineData(0x0f000002, 68)]
    [InlineData(0x0300050e, 52)]   // other option bits do not change the answer
    [InlineData(0x10000002, 8)]    // nor does the trailer-type field
    public void RequestedSizeFollowsRequestedTrailerSizeNative(int options, int expected)
        => Assert.Equal(expected, MachMsgAuditTrailer.RequestedSize((MachMsgOption)options));
}
