using MachTransport.Mach.Abi;
using Xunit;

namespace MachTransport.Tests.Abi;

// docs/mach-abi.md §5.2 (mach_msg_return_t), §8.4 (kern_return_t), §9 (bootstrap status codes).
[Trait("Category", "Abi")]
public class ReturnCodeTests
{
    public static TheoryData<string, long> MachMsgReturns => new()
    {
        { "Success", 0x00000000 },
        { "SendInvalidData", 0x10000002 },
        { "SendInvalidDest", 0x10000003 },
        { "SendTimedOut", 0x10000004 },
        { "SendInterrupted", 0x10000007 },
        { "SendMsgTooSmall", 0x10000008 },
        { "SendInvalidReply", 0x10000009 },
        { "SendInvalidRight", 0x1000000a },
        { "SendInvalidMemory", 0x1000000c },
        { "SendNoBuffer", 0x1000000d },
        { "SendTooLarge", 0x1000000e },
        { "SendInvalidType", 0x1000000f },
        { "SendInvalidHeader", 0x10000010 },
        { "ReceiveInvalidName", 0x10004002 },
        { "ReceiveTimedOut", 0x10004003 },
        { "ReceiveTooLarge", 0x10004004 },
        { "ReceiveInterrupted", 0x10004005 },
        { "ReceivePortChanged", 0x10004006 },
        { "ReceiveInvalidData", 0x10004008 },
        { "ReceivePortDied", 0x10004009 },
        { "ReceiveHeaderError", 0x1000400b },
        { "ReceiveBodyError", 0x1000400c },
        { "ReceiveInvalidType", 0x1000400d },
        { "ReceiveInvalidTrailer", 0x1000400f },
        { "ReceiveInvalidArguments", 0x10004013 },
    };

    public static TheoryData<string, long> KernReturns => new()
    {
        { "Success", 0 },
        { "InvalidAddress", 1 },
        { "ProtectionFailure", 2 },
        { "NoSpace", 3 },
        { "InvalidArgument", 4 },
        { "Failure", 5 },
        { "ResourceShortage", 6 },
        { "NotReceiver", 7 },
        { "NoAccess", 8 },
        { "AlreadyInSet", 11 },
        { "NotInSet", 12 },
        { "NameExists", 13 },
        { "Aborted", 14 },
        { "InvalidName", 15 },
        { "InvalidTask", 16 },
        { "InvalidRight", 17 },
        { "InvalidValue", 18 },
        { "UrefsOverflow", 19 },
        { "InvalidCapability", 20 },
        { "RightExists", 21 },
        { "NotSupported", 46 },
        { "OperationTimedOut", 49 },
    };

    public static TheoryData<string, long> BootstrapStatuses => new()
    {
        { "Success", 0 },
        { "NotPrivileged", 1100 },
        { "NameInUse", 1101 },
        { "UnknownService", 1102 },
        { "ServiceActive", 1103 },
        { "BadCount", 1104 },
        { "NoMemory", 1105 },
        { "NoChildren", 1106 },
    };

    [Fact]
    public void EveryMachMsgReturnHasTheHeaderValue() => DocTable.AssertEnumMatches<MachMsgReturn>(MachMsgReturns);

    [Fact]
    public void EveryKernReturnHasTheHeaderValue() => DocTable.AssertEnumMatches<KernReturn>(KernReturns);

    [Fact]
    public void EveryBootstrapStatusHasTheLaunchdValue() => DocTable.AssertEnumMatches<BootstrapStatus>(BootstrapStatuses);

    [Fact]
    public void SendErrorsAreSystem4Subsystem0AndReceiveErrorsSubsystem1()
    {
        foreach (MachMsgReturn code in Enum.GetValues<MachMsgReturn>().Where(c => c != MachMsgReturn.Success))
        {
            bool isReceive = code.ToString().StartsWith("Receive", StringComparison.Ordinal);
            Assert.Equal(isReceive ? 0x10004000 : 0x10000000, (int)code & ~0x3fff);
        }
    }
}
