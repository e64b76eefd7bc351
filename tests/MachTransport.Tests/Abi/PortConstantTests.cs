using MachTransport.Mach.Abi;
using Xunit;

namespace MachTransport.Tests.Abi;

// docs/mach-abi.md §8.1 (rights, types, special names), §8.2 (attribute flavors), §5.6 (queue limits),
// §8.3 (VM flags), §7.1 (notification ids).
[Trait("Category", "Abi")]
public class PortConstantTests
{
    public static TheoryData<string, long> Rights => new()
    {
        { "Send", 0 },
        { "Receive", 1 },
        { "SendOnce", 2 },
        { "PortSet", 3 },
        { "DeadName", 4 },
    };

    public static TheoryData<string, long> Types => new()
    {
        { "None", 0 },
        { "Send", 0x10000 },
        { "Receive", 0x20000 },
        { "SendOnce", 0x40000 },
        { "PortSet", 0x80000 },
        { "DeadName", 0x100000 },
        { "DeadNameRequest", 0x80000000 },
    };

    [Fact]
    public void EveryRightHasTheHeaderValue() => DocTable.AssertEnumMatches<MachPortRight>(Rights);

    [Fact]
    public void EveryTypeBitHasTheHeaderValue() => DocTable.AssertEnumMatches<MachPortType>(Types);

    [Theory]
    [InlineData("Send")]
    [InlineData("Receive")]
    [InlineData("SendOnce")]
    [InlineData("PortSet")]
    [InlineData("DeadName")]
    public void TypeBitIsOneShiftedByRightPlus16(string right)
        => Assert.Equal(1u << ((int)Enum.Parse<MachPortRight>(right) + 16), (uint)Enum.Parse<MachPortType>(right));

    [Fact]
    public void SpecialNames()
    {
        Assert.Equal(0u, MachPort.Null);
        Assert.Equal(0xFFFFFFFFu, MachPort.Dead);
        Assert.False(MachPort.IsValid(0));
        Assert.False(MachPort.IsValid(0xFFFFFFFF));
        Assert.True(MachPort.IsValid(0x103));
        Assert.True(MachPort.IsValid(0xFFFFFFFE));
    }

    [Fact]
    public void LimitsInfoFlavorAndQueueLimits()
    {
        Assert.Equal(1, MachPort.LimitsInfo);
        Assert.Equal(1, MachPort.LimitsInfoCount);
        Assert.Equal(5u, MachPort.QueueLimitDefault);
        Assert.Equal(1024u, MachPort.QueueLimitMax);
    }

    [Fact]
    public void VmFlags()
    {
        Assert.Equal(0x0, Mach.Abi.VmFlags.Fixed);
        Assert.Equal(0x1, Mach.Abi.VmFlags.Anywhere);
    }

    [Fact]
    public void NotificationIdsAreTheOctalHeaderValuesInDecimal()
    {
        Assert.Equal(65, MachNotifyId.PortDeleted);
        Assert.Equal(66, MachNotifyId.SendPossible);
        Assert.Equal(69, MachNotifyId.PortDestroyed);
        Assert.Equal(70, MachNotifyId.NoSenders);
        Assert.Equal(71, MachNotifyId.SendOnce);
        Assert.Equal(72, MachNotifyId.DeadName);
    }
}
