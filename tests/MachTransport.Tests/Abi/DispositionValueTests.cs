using MachTransport.Mach.Abi;
using Xunit;

namespace MachTransport.Tests.Abi;

// docs/mach-abi.md §4 (mach_msg_type_name_t dispositions and their received-side aliases).
[Trait("Category", "Abi")]
public class DispositionValueTests
{
    public static TheoryData<string, long> TypeNames => new()
    {
        { "None", 0 },
        { "PortName", 15 },
        { "MoveReceive", 16 },
        { "MoveSend", 17 },
        { "MoveSendOnce", 18 },
        { "CopySend", 19 },
        { "MakeSend", 20 },
        { "MakeSendOnce", 21 },
        { "CopyReceive", 22 },
        { "PortReceive", 16 },
        { "PortSend", 17 },
        { "PortSendOnce", 18 },
    };

    [Fact]
    public void EveryDispositionHasTheHeaderValue() => DocTable.AssertEnumMatches<MachMsgTypeName>(TypeNames);

    [Fact]
    public void DispositionsFitTheFiveBitHeaderFieldsAndTheDescriptorByte()
    {
        foreach (MachMsgTypeName name in Enum.GetValues<MachMsgTypeName>())
        {
            Assert.InRange((uint)name, 0u, 0x1fu);
        }
    }
}
