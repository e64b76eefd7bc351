using MachTransport.Mach.Abi;
using MachTransport.Mach.Messages;
using Xunit;

namespace MachTransport.Tests.Abi;

// docs/mach-abi.md §3.5 (worked layout of a complex message with one OOL region), §3.3 (descriptors are
// walked, 12 or 16 bytes), §5.3 (send size is a multiple of 4), §6 (the trailer starts at msgh_size).
[Trait("Category", "Abi")]
public class MessageWriterLayoutTests
{
    private const ulong OolAddress = 0x0000_7f12_3456_7000;

    [Fact]
    public void ComplexMessageWithOneOolRegionMatchesTheWorkedLayout()
    {
        byte[] buffer = Poisoned(128);
        var writer = new MachMessageWriter(buffer, id: 0x4d54, remotePort: 0x1103, MachMsgTypeName.CopySend, descriptorCount: 1);
        writer.AddOutOfLine(OolAddress, 0x0001_0000, deallocate: true, MachMsgCopyOptions.VirtualCopy);
        writer.WriteInline([1, 2, 3, 4, 5]);
        int sendSize = writer.Complete();

        Assert.Equal(52, sendSize);                           // 44 + 5 inline bytes, rounded up to 4
        Assert.Equal(0x80000013u, Bytes.U32(buffer, 0));      // complex | MACH_MSGH_BITS(19, 0)
        Assert.Equal(52u, Bytes.U32(buffer, 4));              // msgh_size = send size
        Assert.Equal(0x1103u, Bytes.U32(buffer, 8));
        Assert.Equal(0u, Bytes.U32(buffer, 12));
        Assert.Equal(0u, Bytes.U32(buffer, 16));
        Assert.Equal(0x4d54u, Bytes.U32(buffer, 20));
        Assert.Equal(1u, Bytes.U32(buffer, 24));              // msgh_descriptor_count
        Assert.Equal(OolAddress, Bytes.U64(buffer, 28));      // OOL address, only 4-aligned
        Assert.Equal(1, buffer[36]);                          // deallocate
        Assert.Equal(1, buffer[37]);                          // copy = VIRTUAL
        Assert.Equal(0, buffer[38]);
        Assert.Equal(1, buffer[39]);                          // type = MACH_MSG_OOL_DESCRIPTOR
        Assert.Equal(0x0001_0000u, Bytes.U32(buffer, 40));    // size
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 0, 0, 0 }, buffer[44..52]);
    }

    [Fact]
    public void InlineDataThatIsAMultipleOfFourIsNotPadded()
    {
        byte[] buffer = Poisoned(64);
        var writer = new MachMessageWriter(buffer, id: 1, remotePort: 0x1103, MachMsgTypeName.MoveSend, descriptorCount: 1);
        writer.AddOutOfLine(OolAddress, 4096, deallocate: false, MachMsgCopyOptions.PhysicalCopy);
        writer.WriteInline(0xa1b2c3d4u);

        Assert.Equal(48, writer.Complete());
        Assert.Equal(0x80000011u, Bytes.U32(buffer, 0));
        Assert.Equal(0, buffer[36]);
        Assert.Equal(0, buffer[37]);
        Assert.Equal(0xa1b2c3d4u, Bytes.U32(buffer, 44));
        Assert.Equal(0xCC, buffer[48]);                       // nothing written past the message
    }

    [Fact]
    public void SimpleMessageHasNoBodyCountAndInlineDataAt24()
    {
        byte[] buffer = Poisoned(64);
        var writer = new MachMessageWriter(buffer, id: 7, remotePort: 0x1103, MachMsgTypeName.CopySend, localPort: 0x2207, localDisposition: MachMsgTypeName.MakeSendOnce);
        writer.WriteInline([9, 8, 7]);

        Assert.Equal(28, writer.Complete());
        Assert.Equal(0x1513u, Bytes.U32(buffer, 0));          // MACH_MSGH_BITS(COPY_SEND, MAKE_SEND_ONCE), not complex
        Assert.Equal(28u, Bytes.U32(buffer, 4));
        Assert.Equal(0x2207u, Bytes.U32(buffer, 12));
        Assert.Equal(new byte[] { 9, 8, 7, 0 }, buffer[24..28]);
    }

    [Fact]
    public void PortThenOolDescriptorsAreWalkedAs12Then16Bytes()
    {
        byte[] buffer = Poisoned(128);
        var writer = new MachMessageWriter(buffer, id: 2, remotePort: 0x1103, MachMsgTypeName.CopySend, descriptorCount: 2);
        writer.AddPort(0x1a03, MachMsgTypeName.MakeSend);
        writer.AddOutOfLine(OolAddress, 0x2000, deallocate: true);
        writer.WriteInline([0x55]);
        int sendSize = writer.Complete();

        Assert.Equal(60, sendSize);                           // 28 + 12 + 16 + 1, rounded to 4
        Assert.Equal(2u, Bytes.U32(buffer, 24));
        Assert.Equal(0x1a03u, Bytes.U32(buffer, 28));         // port descriptor name
        Assert.Equal(0u, Bytes.U32(buffer, 32));              // pad1
        Assert.Equal(20u << 16, Bytes.U32(buffer, 36));       // pad2 0, disposition byte 38 = MAKE_SEND, type byte 39 = PORT
        Assert.Equal(OolAddress, Bytes.U64(buffer, 40));      // OOL descriptor right after, at 28 + 12
        Assert.Equal(0x01000101u, Bytes.U32(buffer, 48));     // deallocate 1, copy VIRTUAL (the default), type OOL
        Assert.Equal(0x2000u, Bytes.U32(buffer, 52));
        Assert.Equal(0x55, buffer[56]);

        // Read back with a 52-byte audit trailer appended at msgh_size, as the kernel delivers it.
        Bytes.Put32(buffer, sendSize + 4, 52);
        Bytes.Put32(buffer, sendSize + 40, 31337);           // pid at trailer + 40
        Bytes.Put32(buffer, sendSize + 48, 3);               // pid version at trailer + 48
        Assert.True(MachMessageReader.TryCreate(buffer.AsSpan(0, sendSize + 52), out MachMessageReader reader, out string? error), error);
        Assert.Equal(2, reader.Id);
        Assert.Equal(2, reader.DescriptorCount);
        Assert.Equal(sendSize, reader.Message.Length);
        Assert.Equal(new byte[] { 0x55, 0, 0, 0 }, reader.Body.ToArray());

        var descriptors = new List<MachDescriptor>();
        foreach (MachDescriptor descriptor in reader.Descriptors)
        {
            descriptors.Add(descriptor);
        }

        Assert.Equal(
            [
                new MachDescriptor(MachMsgDescriptorType.Port, 0x1a03, MachMsgTypeName.MakeSend, 0, 0, false, MachMsgCopyOptions.PhysicalCopy),
                new MachDescriptor(MachMsgDescriptorType.Ool, 0, MachMsgTypeName.None, OolAddress, 0x2000, true, MachMsgCopyOptions.VirtualCopy),
            ],
            descriptors);

        Assert.True(reader.TryGetAuditTrailer(out MachMsgAuditTrailer trailer));
        Assert.Equal(31337, trailer.Audit.Pid);
        Assert.Equal(3u, trailer.Audit.PidVersion);
    }

    [Fact]
    public void ReaderReportsNoAuditTrailerWhenTheKernelWroteAShorterOne()
    {
        byte[] buffer = new byte[24 + 52];
        Bytes.Put32(buffer, 4, 24);
        Bytes.Put32(buffer, 24 + 4, 20);                     // a 20-byte security trailer; the rest is stale

        Assert.True(MachMessageReader.TryCreate(buffer, out MachMessageReader reader, out _));
        Assert.False(reader.TryGetAuditTrailer(out _));
    }

    [Fact]
    public void WriterRefusesMoreDescriptorsThanDeclared()
    {
        byte[] buffer = new byte[64];
        Assert.Throws<InvalidOperationException>(() =>
        {
            var writer = new MachMessageWriter(buffer, id: 1, remotePort: 0x1103, MachMsgTypeName.CopySend, descriptorCount: 1);
            writer.AddPort(0x1a03, MachMsgTypeName.CopySend);
            writer.AddPort(0x1a07, MachMsgTypeName.CopySend);
        });
    }

    [Fact]
    public void WriterRefusesInlineDataBeforeTheDeclaredDescriptors()
    {
        byte[] buffer = new byte[64];
        Assert.Throws<InvalidOperationException>(() =>
        {
            var writer = new MachMessageWriter(buffer, id: 1, remotePort: 0x1103, MachMsgTypeName.CopySend, descriptorCount: 1);
            writer.WriteInline([1]);
        });
    }

    private static byte[] Poisoned(int length)
    {
        var buffer = new byte[length];
        buffer.AsSpan().Fill(0xCC);
        return buffer;
    }
}
