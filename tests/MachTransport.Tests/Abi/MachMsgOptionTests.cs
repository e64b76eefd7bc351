using MachTransport.Mach.Abi;
using Xunit;

namespace MachTransport.Tests.Abi;

// docs/mach-abi.md §5.1 (mach_msg_option_t bits and the trailer-request macros).
[Trait("Category", "Abi")]
public class MachMsgOptionTests
{
    public static TheoryData<string, long> Options => new()
    {
        { "None", 0x00000000 },
        { "SendMsg", 0x00000001 },
        { "ReceiveMsg", 0x00000002 },
        { "ReceiveLarge", 0x00000004 },
        { "ReceiveLargeIdentity", 0x00000008 },
        { "SendTimeout", 0x00000010 },
        { "SendInterrupt", 0x00000040 },
        { "ReceiveTimeout", 0x00000100 },
        { "ReceiveInterrupt", 0x00000400 },
        { "ReceiveTrailerAudit", 0x03000000 },
    };

    [Fact]
    public void EveryOptionHasTheHeaderValue() => DocTable.AssertEnumMatches<MachMsgOption>(Options);

    [Fact]
    public void ReceiveWithAuditTrailerIs0x03000002()
        => Assert.Equal(0x03000002, (int)(MachMsgOption.ReceiveMsg | MachMsgOption.ReceiveTrailerAudit));

    [Fact]
    public void ReceiveWithContextTrailerIs0x04000002()
        => Assert.Equal(0x04000002, (int)(MachMsgOption.ReceiveMsg | MachMsgOptions.TrailerType(0) | MachMsgOptions.TrailerElements(4)));

    [Theory]
    [InlineData(0, 0x00000000)]
    [InlineData(1, 0x01000000)]
    [InlineData(3, 0x03000000)]
    [InlineData(8, 0x08000000)]
    [InlineData(0x1f, 0x0f000000)]
    public void TrailerElementsShiftsFourBitsTo24(int elements, int expected)
        => Assert.Equal(expected, (int)MachMsgOptions.TrailerElements(elements));

    [Theory]
    [InlineData(0, 0x00000000)]
    [InlineData(1, 0x10000000)]
    [InlineData(0x1f, unchecked((int)0xf0000000))]
    public void TrailerTypeShiftsFourBitsTo28(int type, int expected)
        => Assert.Equal(expected, (int)MachMsgOptions.TrailerType(type));

    [Fact]
    public void TrailerElementsMaskIs0x0f000000() => Assert.Equal(0x0f000000u, MachMsgOptions.TrailerElementsMask);
}
