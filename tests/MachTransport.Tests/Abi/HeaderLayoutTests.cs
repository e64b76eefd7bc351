using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MachTransport.Mach.Abi;
using Xunit;

namespace MachTransport.Tests.Abi;

// docs/mach-abi.md §2 (mach_msg_header_t), §2.1 (msgh_bits), §3.1 (body), §12 (sanity values).
[Trait("Category", "Abi")]
public class HeaderLayoutTests
{
    [Fact]
    public void HeaderIs24BytesWithFieldsAt0To20()
    {
        Assert.Equal(24, Unsafe.SizeOf<MachMsgHeader>());
        Assert.Equal(0, (int)Marshal.OffsetOf<MachMsgHeader>(nameof(MachMsgHeader.Bits)));
        Assert.Equal(4, (int)Marshal.OffsetOf<MachMsgHeader>(nameof(MachMsgHeader.Size)));
        Assert.Equal(8, (int)Marshal.OffsetOf<MachMsgHeader>(nameof(MachMsgHeader.RemotePort)));
        Assert.Equal(12, (int)Marshal.OffsetOf<MachMsgHeader>(nameof(MachMsgHeader.LocalPort)));
        Assert.Equal(16, (int)Marshal.OffsetOf<MachMsgHeader>(nameof(MachMsgHeader.VoucherPort)));
        Assert.Equal(20, (int)Marshal.OffsetOf<MachMsgHeader>(nameof(MachMsgHeader.Id)));
    }

    [Fact]
    public void HeaderFieldsLandLittleEndianAtTheirOffsets()
    {
        byte[] bytes = Bytes.Of(new MachMsgHeader
        {
            Bits = 0x80001513,
            Size = 0x2c,
            RemotePort = 0x1103,
            LocalPort = 0x2207,
            VoucherPort = 0x3303,
            Id = -2,
        });

        Assert.Equal(new byte[] { 0x13, 0x15, 0x00, 0x80 }, bytes[0..4]);
        Assert.Equal(0x2cu, Bytes.U32(bytes, 4));
        Assert.Equal(0x1103u, Bytes.U32(bytes, 8));
        Assert.Equal(0x2207u, Bytes.U32(bytes, 12));
        Assert.Equal(0x3303u, Bytes.U32(bytes, 16));
        Assert.Equal(0xfffffffeu, Bytes.U32(bytes, 20));
    }

    [Fact]
    public void HeaderHasFourByteAlignment()
    {
        // pack(4): a header followed by a 4-byte body count is 28 bytes, with no padding to 8 (§3.1).
        Assert.Equal(28, Unsafe.SizeOf<HeaderAndCount>());
        Assert.Equal(24, (int)Marshal.OffsetOf<HeaderAndCount>(nameof(HeaderAndCount.Count)));
    }

    [Fact]
    public void BitsMasksHaveTheHeaderValues()
    {
        Assert.Equal(0x0000001fu, MachMsgBits.RemoteMask);
        Assert.Equal(0x00001f00u, MachMsgBits.LocalMask);
        Assert.Equal(0x001f0000u, MachMsgBits.VoucherMask);
        Assert.Equal(0x001f1f1fu, MachMsgBits.PortsMask);
        Assert.Equal(0x80000000u, MachMsgBits.Complex);
        Assert.Equal(0x801f1f1fu, MachMsgBits.User);
        Assert.Equal(0xb01f1f1fu, MachMsgBits.Used);
    }

    [Theory]
    [InlineData(MachMsgTypeName.CopySend, MachMsgTypeName.MakeSendOnce, false, 0x1513u)]
    [InlineData(MachMsgTypeName.MoveSend, MachMsgTypeName.MakeSendOnce, false, 0x1511u)]
    [InlineData(MachMsgTypeName.MoveSend, MachMsgTypeName.None, true, 0x80000011u)]
    [InlineData(MachMsgTypeName.CopySend, MachMsgTypeName.None, true, 0x80000013u)]
    [InlineData(MachMsgTypeName.MoveSendOnce, MachMsgTypeName.None, false, 0x12u)]
    internal void MakeEncodesRemoteLocalAndComplexLikeMachMsghBits(MachMsgTypeName remote, MachMsgTypeName local, bool complex, uint expected)
        => Assert.Equal(expected, MachMsgBits.Make(remote, local, complex));

    [Fact]
    public void ReceivedBitsAreParsedWithMasksNotEquality()
    {
        // The kernel may add MACH_MSGH_BITS_RAISEIMP (0x20000000) on receive (§2.1, §11.19); on receive
        // LOCAL holds the right the message was sent to (17 or 18) and REMOTE the reply right (§4).
        var header = new MachMsgHeader { Bits = 0x20000000 | 0x80000000 | (18u << 8) | 17u };

        Assert.True(header.IsComplex);
        Assert.Equal(MachMsgTypeName.PortSend, header.RemoteDisposition);
        Assert.Equal(MachMsgTypeName.PortSendOnce, header.LocalDisposition);
        Assert.False(new MachMsgHeader { Bits = 0x20001112 }.IsComplex);
    }

    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    private struct HeaderAndCount
    {
        public MachMsgHeader Header;
        public uint Count;
    }
}
